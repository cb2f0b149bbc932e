#!/usr/bin/env bash
# One io_uring ring for fd monitoring and disk I/O (QEMU 10.2's aio_add_sqe) against the
# engine's private ring, in one run, through NBD:
#
#   bench/nbd-ring.sh [ROUNDS, default 7] [SECONDS per run, default 3] [IMAGE]
#
# Servers (NbdMain, O_DIRECT, one IOThread, io_uring engine):
#   shared    --fdmon io_uring: the engine queues its SQEs on the monitor's ring
#   private   --fdmon io_uring with -Daiolos.io_uring.shared-ring=false: the engine's own
#             ring, watched by the monitor (Aiolos before this change, QEMU before 10.2)
#   epoll     --fdmon epoll: the private ring under epoll, for reference
# Cells: fio --ioengine=nbd 4 KiB randread and randwrite at QD1 and QD32, one connection.
# Alternating rounds: each round runs every server once, the order rotating. During each
# run perf counts the server's system calls (raw_syscalls:sys_enter, and io_uring_enter,
# read, write, epoll_wait, poll separately) over all its threads. The report gives per
# cell the median IOPS, system calls, io_uring_enter calls and CPU time per request, and
# the median (min-max) of the per-round ratios shared / private.
# Writes bench/results/nbd-ring-<date>.csv and .txt.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-7}
secs=${2:-3}
image=${3:-bench/target/nbd-bench.img}
for tool in fio nbdinfo perf python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "nbd-ring.sh: $tool is missing" >&2; exit 1; }
done
JAVA_HOME="$(bin/find-jdk25)"
./mvnw -B -q package -DskipTests -pl bench -am ${MVN_REPO:+-Dmaven.repo.local=$MVN_REPO}
mkdir -p "$(dirname "$image")"
if [ ! -f "$image" ] || [ "$(stat -c %s "$image")" -ne $((1 << 30)) ]; then
  echo "== writing the 1 GiB image $image"
  rm -f "$image"
  fio --name=prep --filename="$image" --rw=write --bs=1M --size=1G --direct=1 --ioengine=psync >/dev/null
fi
results=${AIOLOS_BENCH_OUT:-bench/results}
mkdir -p "$results"
stamp="$(date +%F-%H%M)"
csv="$results/nbd-ring-$stamp.csv"
txt="$results/nbd-ring-$stamp.txt"
echo "server,rw,qd,round,iops,ios,cpu_s,syscalls,io_uring_enter,read,write,epoll_wait,poll" > "$csv"
{
  echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) cores, $(fio --version), $(perf --version)"
  echo "# image $image, $rounds alternating rounds of ${secs}s runs per cell, one connection"
  echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$txt"

port=10980
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
  log="bench/target/nbd-ring-$port.log"
  "$@" > "$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    if nbdinfo --size "nbd://127.0.0.1:$port/bench" >/dev/null 2>&1 && kill -0 "$pid" 2>/dev/null \
        && grep -q "^listening on" "$log"; then
      names+=("$name") ports+=("$port") pids+=("$pid")
      echo "$name: $(grep '^listening on' "$log")" | tee -a "$txt"
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
aiolos() { # FDMON [JAVA OPTIONS...]
  local fdmon=$1
  shift
  exec "$JAVA_HOME/bin/java" "$@" --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.vm=ALL-UNNAMED \
    -cp "$(cat bench/target/bench.classpath):bench/target/classes" org.aiolos.nbd.NbdMain --file "$image" \
    --name bench --port "$port" --direct --engine io_uring --fdmon "$fdmon"
}
launch shared aiolos io_uring || true
launch private aiolos io_uring -Daiolos.io_uring.shared-ring=false || true
launch epoll aiolos epoll || true
n=${#pids[@]}
for i in $(seq 0 $((n - 1))); do
  fio --name=warmup --ioengine=nbd --uri="nbd://127.0.0.1:${ports[$i]}/bench" --rw=randrw --bs=4k --iodepth=16 \
    --time_based --runtime=4 --norandommap --randrepeat=0 --output-format=terse >/dev/null 2>&1 || true
done

events=raw_syscalls:sys_enter,syscalls:sys_enter_io_uring_enter,syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_poll
run_one() { # INDEX RW QD ROUND
  local i=$1 rw=$2 qd=$3 round=$4 c0 c1 json perfout ppid
  perfout="bench/target/nbd-ring-perf-$$.txt"
  perf stat -x, -e "$events" -p "${pids[$i]}" -o "$perfout" -- sleep $((secs + 1)) &
  ppid=$!
  sleep 0.3 # perf attached before the load starts
  c0=$(cpu_of "${pids[$i]}")
  json=$(fio --name=ring --ioengine=nbd --uri="nbd://127.0.0.1:${ports[$i]}/bench" --rw="$rw" --bs=4k \
      --iodepth="$qd" --time_based --runtime="$secs" --norandommap --randrepeat=0 --output-format=json 2>/dev/null) || {
    echo "${names[$i]} $rw QD$qd: fio failed; left out" | tee -a "$txt"; wait "$ppid" || true; return; }
  c1=$(cpu_of "${pids[$i]}")
  wait "$ppid" || true
  python3 -c "$parse" "$rw" "${names[$i]}" "$qd" "$round" "$c0" "$c1" "$perfout" <<< "$json" | tee -a "$csv"
}
# fio's JSON on stdin, perf's CSV in a file: one row of the results.
parse='
import json, sys
rw, name, qd, rnd, c0, c1, perf = sys.argv[1:]
s = sys.stdin.read()
j = json.loads(s[s.index("{"):])["jobs"][0][rw[4:]]
counts = {}
for line in open(perf):
    f = line.strip().split(",")
    if len(f) > 2 and f[0].replace(".", "").isdigit():
        counts[f[2]] = int(float(f[0]))
def c(e):
    return counts.get(e, 0)
print("%s,%s,%s,%s,%.0f,%d,%.3f,%d,%d,%d,%d,%d,%d" % (name, rw, qd, rnd, j["iops"], j["total_ios"],
      float(c1) - float(c0), c("raw_syscalls:sys_enter"), c("syscalls:sys_enter_io_uring_enter"),
      c("syscalls:sys_enter_read"), c("syscalls:sys_enter_write"), c("syscalls:sys_enter_epoll_wait"),
      c("syscalls:sys_enter_poll")))
'
for rw in randread randwrite; do
  for qd in 1 32; do
    for round in $(seq 1 "$rounds"); do
      for j in $(seq 0 $((n - 1))); do
        run_one $(((j + round) % n)) "$rw" "$qd" "$round"
      done
    done
  done
done
stop_all
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$txt"
python3 bench/scripts/ring_report.py "$csv" | tee -a "$txt"
echo "results: $csv and $txt"
