#!/usr/bin/env bash
# 4 KiB random O_DIRECT reads and writes at QD1 and QD32 through each Aiolos disk-I/O
# engine, against fio with the matching ioengine, on one file, in alternating rounds
# (bench/lib/disk_rounds.py; the method: bench/lib/rounds.py, docs/benchmarks.md):
#
#   threads  <-> fio psync    (QD n = n psync jobs: n blocking preads/pwrites at once)
#   native   <-> fio libaio   (one job, iodepth n)
#   io_uring <-> fio io_uring (one job, iodepth n)
#
#   bench/disk.sh [SECONDS per round, default 1] [FILE, default bench/target/disk-bench.img]
#                 [OUT dir, default bench/results/disk-<date>] [ROUNDS, default 7]
#
# Each cell: one Aiolos process (DiskEngineBench --serve) and fio take turns, ROUNDS rounds
# of SECONDS each; the table gives the median of the per-round ratios with min-max and a
# bootstrap interval, each side's CPU per request, and the goal (>= 0.95x fio) met / missed /
# cannot tell. AIOLOS_FDMON=poll|epoll|io_uring pins the context's fd monitor (default:
# QEMU's policy); AIOLOS_DISK_ENGINES, AIOLOS_DISK_QD, AIOLOS_DISK_RW narrow the cells
# (e.g. AIOLOS_DISK_ENGINES=threads AIOLOS_DISK_QD=32).
#
# Installs fio when missing (apt-get). The file is 1 GiB, written once.
# bench/run.sh runs it as part of the whole suite (with AIOLOS_BENCH_BUILT=1: no rebuild).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-1}
file=${2:-bench/target/disk-bench.img}
out=${3:-bench/results/disk-$(date +%F-%H%M)}
rounds=${4:-7}
JAVA_HOME="$(bin/find-jdk25)"
export JAVA_HOME

if ! command -v fio >/dev/null 2>&1; then
  echo "== installing fio"
  apt-get update -qq && apt-get install -y -qq fio >/dev/null
fi

if [ -z "${AIOLOS_BENCH_BUILT:-}" ]; then
  ./mvnw -B -q package -DskipTests -pl bench -am
fi
mkdir -p "$out" "$(dirname "$file")"
if [ ! -f "$file" ] || [ "$(stat -c %s "$file")" -lt $((1 << 30)) ]; then
  echo "== writing the 1 GiB test file $file"
  fio --name=prep --filename="$file" --rw=write --bs=1M --size=1G --direct=1 --ioengine=psync >/dev/null
fi
echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) cores, $(fio --version), file $file ($(df -T "$file" | awk 'NR==2{print $2}'))" \
  | tee "$out/disk-machine.txt"
python3 bench/lib/disk_rounds.py --file "$file" --seconds "$secs" --rounds "$rounds" --out "$out" \
  --engines "${AIOLOS_DISK_ENGINES:-threads,native,io_uring}" --qd "${AIOLOS_DISK_QD:-1,32}" \
  --rw "${AIOLOS_DISK_RW:-randread,randwrite}" | tee "$out/disk-console.txt"
echo "results: $out/disk-rounds.md"
