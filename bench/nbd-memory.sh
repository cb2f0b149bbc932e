#!/usr/bin/env bash
# Does the NBD server's memory level off under repeated load? Starts NbdMain with Native
# Memory Tracking, then runs CYCLES rounds of fio (ioengine=nbd, 4 connections of 16
# pipelined random reads and writes, 4 KiB to 32 MiB, the protocol's largest payload), and
# after each round forces a full GC and records:
#   rss_mib        VmRSS of the server
#   heap_used_mib  Java heap in use after the full GC (GC.heap_info)
#   heap_comm_mib  Java heap committed
#   nmt_comm_mib   everything NMT sees as committed (heap, metaspace, code, threads, GC, ...)
#   other_mib      NMT "Other": native memory from Unsafe/FFM allocations, i.e. the request
#                  buffers (pool cache + in flight) and the connections' I/O buffers
#   mapped_mib     anonymous mappings NMT does not see (rings, FFM mmap), from smaps_rollup
#
#   bench/nbd-memory.sh [CYCLES, default 8] [SECONDS per cycle, default 5] [extra JVM options...]
#
# The server runs with -Xmx256m unless the options name another heap. Needs fio with its
# nbd engine (bin/install-test-tools). Writes bench/results/nbd-memory-<date>.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
cycles=${1:-8}
secs=${2:-5}
shift $(( $# > 2 ? 2 : $# )) || true
jvm_opts=("$@")
JAVA_HOME="$(bin/find-jdk25)"
command -v fio >/dev/null || { echo "nbd-memory.sh: fio is missing; run bin/install-test-tools" >&2; exit 1; }
if [ -z "${NBD_MEMORY_CP:-}" ]; then
  ./mvnw -B -q package -DskipTests -pl bench -am
  cp_="$(cat bench/target/bench.classpath):bench/target/classes"
else
  cp_=$NBD_MEMORY_CP # a classpath built elsewhere (the script's own smoke test)
fi
mkdir -p bench/results bench/target
image=bench/target/nbd-memory.img
rm -f "$image"
truncate -s 512M "$image"
port=10950
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
heap=(-Xmx256m)
for o in "${jvm_opts[@]}"; do case "$o" in -Xmx*) heap=() ;; esac; done
log=bench/target/nbd-memory-server.log
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.vm=ALL-UNNAMED \
  -XX:NativeMemoryTracking=summary "${heap[@]}" "${jvm_opts[@]}" \
  -cp "$cp_" org.aiolos.nbd.NbdMain --file "$image" --name mem --port "$port" > "$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  grep -q "^listening on" "$log" && break
  kill -0 $pid || { cat "$log"; exit 1; }
  sleep 0.1
done
csv="bench/results/nbd-memory-$(date +%F-%H%M).csv"
echo "cycle,rss_mib,heap_used_mib,heap_comm_mib,nmt_comm_mib,other_mib,mapped_mib,load1" > "$csv"
mib() { awk -v k="$1" '{ printf "%.1f", k / 1024 }'; }
sample() { # CYCLE
  "$JAVA_HOME/bin/jcmd" $pid GC.run >/dev/null
  sleep 1
  local rss heapinfo used comm nmt total other anon
  rss=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' /proc/$pid/status)
  heapinfo=$("$JAVA_HOME/bin/jcmd" $pid GC.heap_info)
  used=$(echo "$heapinfo" | sed -n 's/.*total reserved [0-9]*K, committed \([0-9]*\)K, used \([0-9]*\)K.*/\2/p' | head -1)
  comm=$(echo "$heapinfo" | sed -n 's/.*total reserved [0-9]*K, committed \([0-9]*\)K, used \([0-9]*\)K.*/\1/p' | head -1)
  nmt=$("$JAVA_HOME/bin/jcmd" $pid VM.native_memory summary scale=KB)
  total=$(echo "$nmt" | sed -n 's/^Total: reserved=[0-9]*KB, committed=\([0-9]*\)KB.*/\1/p')
  other=$(echo "$nmt" | sed -n '/^-  *Other (/ s/.*committed=\([0-9]*\)KB.*/\1/p')
  anon=$(awk '/^Anonymous:/ { print $2 }' /proc/$pid/smaps_rollup)
  echo "$1,$rss,$(echo "$used" | mib "$used"),$(echo | mib "$comm"),$(echo | mib "$total"),$(echo | mib "${other:-0}"),$(echo | mib "$(( anon - total > 0 ? anon - total : 0 ))"),$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$csv"
}
sample 0
for c in $(seq 1 "$cycles"); do
  fio --name=mem --ioengine=nbd --uri="nbd://127.0.0.1:$port/mem" --rw=randrw --direct=1 \
    --bssplit=4k/40:64k/25:1m/20:4m/10:32m/5 --iodepth=16 --numjobs=4 --size=512M \
    --time_based --runtime="$secs" --group_reporting > bench/target/nbd-memory-fio.log 2>&1 \
    || { echo "fio failed:"; tail -20 bench/target/nbd-memory-fio.log; exit 1; }
  sample "$c"
done
echo "wrote $csv"
