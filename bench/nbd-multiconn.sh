#!/usr/bin/env bash
# One export, several client connections (NBD multi-conn), served by 1 and by 2 Aiolos
# IOThreads, beside qemu-nbd and nbdkit given the same connections:
#
#   bench/nbd-multiconn.sh [ROUNDS, default 7] [SECONDS per run, default 3] [IMAGE]
#
# Cells: 4 KiB randread and randwrite with 1, 2 and 4 connections (fio --ioengine=nbd
# --numjobs=N, one connection per job), QD32 in total (iodepth 32/N per connection).
# Servers, all opening the image with O_DIRECT except nbdkit (it has no such mode):
#   aiolos-1   NbdMain --iothreads 1 --engine io_uring --direct
#   aiolos-2   NbdMain --iothreads 2 --engine io_uring --direct (connections least-loaded)
#   qemu-nbd   --aio=io_uring --cache=none --shared=8 (one main loop)
#   nbdkit     file plugin cache=none (its own thread pool)
# Method: alternating rounds. Every cell runs ROUNDS rounds; a round runs each server once
# (the order rotates each round), so the servers of a round see the same load. The report
# gives, per cell, each server's median IOPS and median server CPU per request (user +
# system time of the server process from /proc/PID/stat over the run, divided by the
# requests fio completed), and the median of the per-round ratios with their min-max.
# Writes bench/results/nbd-multiconn-<date>.csv and .txt.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-7}
secs=${2:-3}
image=${3:-bench/target/nbd-bench.img}
for tool in fio qemu-nbd nbdkit nbdinfo python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "nbd-multiconn.sh: $tool is missing; run bin/install-test-tools" >&2; exit 1; }
done
JAVA_HOME="$(bin/find-jdk25)"
./mvnw -B -q package -DskipTests -pl bench -am ${MVN_REPO:+-Dmaven.repo.local=$MVN_REPO}
mkdir -p bench/results "$(dirname "$image")"
if [ ! -f "$image" ] || [ "$(stat -c %s "$image")" -ne $((1 << 30)) ]; then
  echo "== writing the 1 GiB image $image"
  rm -f "$image"
  fio --name=prep --filename="$image" --rw=write --bs=1M --size=1G --direct=1 --ioengine=psync >/dev/null
fi
results=${AIOLOS_BENCH_OUT:-bench/results}
mkdir -p "$results"
stamp="$(date +%F-%H%M)"
csv="$results/nbd-multiconn-$stamp.csv"
txt="$results/nbd-multiconn-$stamp.txt"
echo "server,rw,conns,round,iops,ios,cpu_s,cpu_us_per_req" > "$csv"
{
  echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) cores, $(fio --version), $(qemu-nbd --version | head -1), $(nbdkit --version)"
  echo "# image $image, $rounds alternating rounds of ${secs}s runs per cell, QD32 in total"
  echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$txt"

port=10950
names=() ports=() pids=()
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
launch() { # NAME COMMAND...
  local name=$1 pid log
  shift
  port=$((port + 1))
  while port_busy "$port"; do port=$((port + 1)); done
  log="bench/target/nbd-multiconn-$port.log"
  "$@" > "$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    if nbdinfo --size "nbd://127.0.0.1:$port/bench" >/dev/null 2>&1 && kill -0 "$pid" 2>/dev/null; then
      names+=("$name") ports+=("$port") pids+=("$pid")
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$name did not start; left out:" | tee -a "$txt"
  tee -a "$txt" < "$log"
  kill "$pid" 2>/dev/null || true
  return 1
}
tick=$(getconf CLK_TCK)
cpu_of() { awk -v t="$tick" '{print ($14 + $15) / t}' "/proc/$1/stat" 2>/dev/null || echo 0; }

aiolos() { # IOTHREADS
  exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.vm=ALL-UNNAMED \
    -cp "$(cat bench/target/bench.classpath):bench/target/classes" org.aiolos.nbd.NbdMain --file "$image" \
    --name bench --port "$port" --direct --engine io_uring --iothreads "$1"
}
qemu_nbd() {
  exec qemu-nbd -f raw --persistent --shared=8 -t -b 127.0.0.1 -p "$port" -x bench --cache=none --aio=io_uring "$image"
}
nbdkit_file() {
  exec nbdkit -f -i 127.0.0.1 -p "$port" -e bench file "$image" cache=none
}

launch aiolos-1 aiolos 1 || true
launch aiolos-2 aiolos 2 || true
launch qemu-nbd qemu_nbd || true
launch nbdkit nbdkit_file || true
n=${#pids[@]}

# An unmeasured mixed run on each first (the JIT compiles Aiolos' hot paths meanwhile).
for i in $(seq 0 $((n - 1))); do
  fio --name=warmup --ioengine=nbd --uri="nbd://127.0.0.1:${ports[$i]}/bench" --rw=randrw --bs=4k --iodepth=8 \
    --numjobs=2 --time_based --runtime=4 --norandommap --randrepeat=0 --output-format=terse >/dev/null 2>&1 || true
done

run_one() { # INDEX RW CONNS ROUND
  local i=$1 rw=$2 conns=$3 round=$4 c0 c1 json ios
  c0=$(cpu_of "${pids[$i]}")
  if ! json=$(fio --name=mc --ioengine=nbd --uri="nbd://127.0.0.1:${ports[$i]}/bench" --rw="$rw" --bs=4k \
      --iodepth=$((32 / conns)) --numjobs="$conns" --group_reporting --time_based --runtime="$secs" \
      --norandommap --randrepeat=0 --output-format=json 2>/dev/null); then
    echo "${names[$i]} $rw x$conns: fio failed; left out" | tee -a "$txt"
    return
  fi
  c1=$(cpu_of "${pids[$i]}")
  read -r iops ios < <(python3 -c '
import json, sys
s = sys.stdin.read()
j = json.loads(s[s.index("{"):])["jobs"][0][sys.argv[1]]
print("%.0f %d" % (j["iops"], j["total_ios"]))' "${rw#rand}" <<< "$json")
  awk -v n="${names[$i]}" -v rw="$rw" -v c="$conns" -v r="$round" -v iops="$iops" -v ios="$ios" -v a="$c0" -v b="$c1" \
    'BEGIN { printf "%s,%s,%s,%s,%s,%s,%.3f,%.2f\n", n, rw, c, r, iops, ios, b - a, (ios > 0 ? 1e6 * (b - a) / ios : 0) }' \
    | tee -a "$csv"
}

for rw in randread randwrite; do
  for conns in 1 2 4; do
    for round in $(seq 1 "$rounds"); do
      for j in $(seq 0 $((n - 1))); do
        run_one $(((j + round) % n)) "$rw" "$conns" "$round"
      done
    done
  done
done
stop_all
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$txt"
python3 bench/scripts/multiconn_report.py "$csv" | tee -a "$txt"
echo "results: $csv and $txt"
