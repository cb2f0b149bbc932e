#!/usr/bin/env bash
# The whole benchmark suite, Aiolos beside its peers, in one command:
#
#   bench/run.sh quick       # everything, short runs (under 10 minutes on the 2-core VM)
#   bench/run.sh thorough    # everything, long runs (well over an hour)
#   bench/run.sh quick|thorough 'JMH regex' [JMH options]
#                            # only the JMH benchmarks that match, + the C baseline; the
#                            # options go to JMH after the mode's (e.g. -p loop=aiolos-poll)
#
# A full run does, in this order, into bench/results/<date>-<time>-<mode>/:
#   machine.txt        lscpu, kernel, JDK, fio, load average before and after each step
#   c-before.json      the C eventfd + epoll_wait ping-pong (the limit of a cross-thread wake)
#   wake/              the cross-thread task round trip in alternating rounds (bench/lib/
#                      wake_rounds.py): Aiolos poll/epoll/io_uring with adaptive polling off
#                      and on, Netty 4.2 epoll and io_uring and the C ping-pong take turns,
#                      each loop in its own JVM: wake-rounds.md (ratios, CPU per round
#                      trip, the loop thread's B/op), .json
#   jmh-wake-<loop>.json, c-<loop>.json  (thorough only)
#                      the same round trip under JMH (CrossThreadWake), one JMH run per
#                      loop, each right after its own C ping-pong
#   jmh-peers.json     Aiolos beside Netty on the other shared tasks: FdReadiness, TimerFiring
#   c-after.json       the C ping-pong again: the wake figures sit between the two
#   jmh-rest.json      every other JMH benchmark (BHs, fd dispatch, timers with 1 M pending,
#                      coroutines, CoMutex, thread pool, monitor swap)
#   disk/              the disk engines against fio psync / libaio / io_uring in alternating
#                      rounds (bench/disk.sh): disk-rounds.md (verdict per goal), .json
#   nbd/               Aiolos against qemu-nbd and nbdkit in alternating rounds
#                      (bench/nbd.sh rounds): nbd-rounds.md, .json
#   console.log        JMH's console output (per-iteration figures, loop counters)
#   summary.md, *.svg  tables with ratios and charts (bench/scripts/report.py)
# Every JMH row carries JMH's GC profiler (B/op of the whole JVM); the loop benchmarks also
# report the loop thread's own allocation (loopBytes / ops).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
regex=${2:-}
extra=("${@:3}")
case "$mode" in
  # *_secs / *_rounds: the alternating rounds of the disk and NBD head-to-heads.
  quick) jmh_opts=(-f 1 -wi 2 -w 500ms -i 3 -r 1s) ; c_rounds=100000 ; c_adjacent=20000
         disk_secs=1 ; disk_rounds=7 ; nbd_secs=1 ; nbd_rounds=7 ;;
  thorough) jmh_opts=(-f 3 -wi 5 -w 2s -i 10 -r 2s) ; c_rounds=1000000 ; c_adjacent=200000
         disk_secs=3 ; disk_rounds=15 ; nbd_secs=3 ; nbd_rounds=15 ;;
  *) echo "usage: bench/run.sh [quick|thorough] [JMH regex]" >&2; exit 2 ;;
esac
JAVA_HOME="$(bin/find-jdk25)"
export JAVA_HOME
started=$(date +%s)
./mvnw -B -q package -DskipTests -pl bench -am
out="bench/results/$(date +%F-%H%M%S)-$mode${regex:+-partial}"
mkdir -p "$out" bench/target/c
load() { echo "load $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%T) ($1)" | tee -a "$out/machine.txt"; }

{
  echo "# $(date -u +%FT%TZ) bench/run.sh $mode ${regex:+'$regex'} ${extra[*]}"
  lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket|Hypervisor|L[23] cache|CPU max MHz)' || true
  echo "kernel: $(uname -srm)"
  echo "memory: $(free -g | awk '/Mem:/{print $2 " GiB"}')"
  echo "jdk: $("$JAVA_HOME/bin/java" -version 2>&1 | sed -n 2p)"
  echo "jmh: ${jmh_opts[*]} -prof gc"
} > "$out/machine.txt"
cat "$out/machine.txt"

gcc -O2 -pthread -o bench/target/c/eventfd_pingpong bench/c/eventfd_pingpong.c
c_baseline() { # name [rounds]
  local ns
  ns=$(bench/target/c/eventfd_pingpong "${2:-$c_rounds}")
  echo "== C eventfd + epoll_wait ping-pong ($1): $ns ns per round trip"
  echo "{\"eventfd_pingpong_ns\": $ns, \"rounds\": ${2:-$c_rounds}, \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" > "$out/c-$1.json"
}
jmh() { # regex json [more JMH options; one given here replaces the mode's]
  local regex=$1 json=$2 opts=() i
  shift 2
  for ((i = 0; i < ${#jmh_opts[@]}; i += 2)); do
    case " $* " in *" ${jmh_opts[i]} "*) ;; *) opts+=("${jmh_opts[i]}" "${jmh_opts[i + 1]}") ;; esac
  done
  echo "== JMH $mode '$regex' ${opts[*]} $*"
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
    --add-exports java.base/jdk.internal.vm=ALL-UNNAMED \
    -cp "bench/target/classes:$(cat bench/target/bench.classpath)" \
    org.openjdk.jmh.Main "$regex" "${opts[@]}" -prof gc -rf json -rff "$json" "$@" 2>&1 | tee -a "$out/console.log"
}
# The wake cost of this VM moves by up to 8x within minutes, so each loop of the
# cross-thread round trip gets its own C ping-pong run right before it (c-<loop>.json).
wake_loops=(aiolos-poll aiolos-epoll aiolos-io_uring aiolos-poll+polling aiolos-epoll+polling
            aiolos-io_uring+polling netty-epoll netty-io_uring)

peers='CrossThreadWakeBenchmark|FdReadinessBenchmark|TimerFiringBenchmark'
if [ -n "$regex" ]; then
  load "before"
  c_baseline before
  jmh "$regex" "$out/jmh.json" "${extra[@]}"
  c_baseline after
  load "after"
else
  load "before C + peers"
  c_baseline before
  wake_rounds=7
  [ "$mode" = thorough ] && wake_rounds=15
  python3 bench/lib/wake_rounds.py --rounds "$wake_rounds" --seconds 1 --out "$out/wake" \
    --pairs aiolos-poll+polling:aiolos-poll,aiolos-epoll+polling:aiolos-epoll,aiolos-io_uring+polling:aiolos-io_uring \
    | tee -a "$out/console.log" || echo "wake_rounds.py failed (exit $?)"
  load "after wake rounds"
  if [ "$mode" = thorough ]; then
    for l in "${wake_loops[@]}"; do
      c_baseline "$l" "$c_adjacent"
      jmh CrossThreadWakeBenchmark "$out/jmh-wake-$l.json" -p loop="$l"
    done
  fi
  jmh 'FdReadinessBenchmark|TimerFiringBenchmark' "$out/jmh-peers.json"
  c_baseline after
  load "after peers"
  jmh "^(?!.*($peers)).*" "$out/jmh-rest.json"
  load "after JMH"
  AIOLOS_BENCH_BUILT=1 bench/disk.sh "$disk_secs" bench/target/disk-bench.img "$out/disk" "$disk_rounds"
  load "after disk"
  mkdir -p "$out/nbd"
  AIOLOS_BENCH_BUILT=1 AIOLOS_BENCH_OUT="$out/nbd" bash bench/nbd.sh rounds bench/target/nbd-bench.img \
    "$nbd_rounds" "$nbd_secs" || echo "bench/nbd.sh rounds failed (exit $?)"
  load "after nbd"
fi
echo "total: $(( $(date +%s) - started )) s" | tee -a "$out/machine.txt"
python3 bench/scripts/report.py "$out" || echo "report.py failed (exit $?)"
echo "results: $out"
