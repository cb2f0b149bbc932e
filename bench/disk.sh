#!/usr/bin/env bash
# 4 KiB random O_DIRECT reads and writes at QD1 and QD32 through each Aiolos disk-I/O
# engine, beside fio with the matching ioengine, on one file, in one run:
#
#   threads  <-> fio psync    (QD n = n psync jobs: n blocking preads/pwrites at once)
#   native   <-> fio libaio   (one job, iodepth n)
#   io_uring <-> fio io_uring (one job, iodepth n)
#
#   bench/disk.sh [SECONDS per run, default 5] [FILE, default bench/target/disk-bench.img] [OUT]
#
# AIOLOS_FDMON=poll|epoll|io_uring pins the context's fd monitor (default: QEMU's policy,
# io_uring when available).
#
# Installs fio when missing (apt-get). Prints a table and writes it, with the raw
# numbers, to OUT (default bench/results/disk-<date>.txt). The file is 1 GiB, written once.
# bench/run.sh runs it as part of the whole suite (with AIOLOS_BENCH_BUILT=1: no rebuild).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
file=${2:-bench/target/disk-bench.img}
JAVA_HOME="$(bin/find-jdk25)"

if ! command -v fio >/dev/null 2>&1; then
  echo "== installing fio"
  apt-get update -qq && apt-get install -y -qq fio >/dev/null
fi

if [ -z "${AIOLOS_BENCH_BUILT:-}" ]; then
  ./mvnw -B -q package -DskipTests -pl bench -am
fi
mkdir -p bench/results "$(dirname "$file")"
if [ ! -f "$file" ] || [ "$(stat -c %s "$file")" -lt $((1 << 30)) ]; then
  echo "== writing the 1 GiB test file $file"
  fio --name=prep --filename="$file" --rw=write --bs=1M --size=1G --direct=1 --ioengine=psync >/dev/null
fi

out=${3:-bench/results/disk-$(date +%F-%H%M).txt}
{
  echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) cores, $(fio --version), file $file ($(df -T "$file" | awk 'NR==2{print $2}')), ${secs}s per run"
  echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg); context fd monitor: ${AIOLOS_FDMON:-QEMU policy}"
} | tee "$out"

fio_iops() { # ioengine rw qd -> IOPS
  local engine=$1 rw=$2 qd=$3 jobs=1 depth=$3
  if [ "$engine" = psync ]; then jobs=$qd; depth=1; fi
  fio --name=bench --filename="$file" --direct=1 --rw="$rw" --bs=4k --size=1G --ioengine="$engine" \
      --iodepth="$depth" --numjobs="$jobs" --group_reporting --time_based --runtime="$secs" --ramp_time=1 \
      --randrepeat=0 --norandommap --output-format=json \
    | "$JAVA_HOME/bin/java" -cp bench/target/classes org.aiolos.bench.FioIops "$rw"
}

# Each cell runs Aiolos and then fio back to back, so that the two sides of a ratio see
# the same machine load (the 2 cores are shared; all-Aiolos-then-all-fio skewed ratios).
printf "%-9s %-10s %3s %12s %8s %12s %7s\n" engine rw qd aiolos_iops lat_us fio_iops ratio | tee -a "$out"
for e in threads native io_uring; do
  case $e in threads) fe=psync ;; native) fe=libaio ;; io_uring) fe=io_uring ;; esac
  for rw in randread randwrite; do
    for qd in 1 32; do
      line=$("$JAVA_HOME/bin/java" ${AIOLOS_FDMON:+-Daiolos.fdmon=$AIOLOS_FDMON} \
        --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.vm=ALL-UNNAMED \
        -cp "bench/target/classes:$(cat bench/target/bench.classpath)" \
        org.aiolos.bench.DiskEngineBench "$file" "$secs" "$e:$rw:$qd" 2>/dev/null)
      read -r engine _ _ iops lat rest <<< "$line"
      f=$(fio_iops "$fe" "$rw" "$qd")
      ratio=$(awk -v a="$iops" -v b="$f" 'BEGIN{printf "%.2f", a/b}')
      printf "%-9s %-10s %3s %12s %8s %12s %7s %s\n" "$engine" "$rw" "$qd" "$iops" "$lat" "$f ($fe)" "$ratio" "$rest" \
        | tee -a "$out"
    done
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out"
echo "results: $out"
