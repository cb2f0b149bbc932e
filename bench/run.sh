#!/usr/bin/env bash
# Runs the JMH benchmarks (with JMH's GC profiler, so B/op is reported) and the C
# eventfd + epoll_wait ping-pong that bounds a cross-thread wake-up on this machine.
#
#   bench/run.sh [quick|thorough] [JMH regex]
#
# quick: 1 fork, 2 x 1 s warm-up, 3 x 1 s measurement (a few minutes for everything);
# thorough: 3 forks, 5 x 2 s warm-up, 10 x 2 s measurement.
# JSON results land in bench/results/<date>-<mode>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
regex=${2:-.}
case "$mode" in
  quick) jmh_opts=(-f 1 -wi 2 -w 1s -i 3 -r 1s) ; c_rounds=200000 ;;
  thorough) jmh_opts=(-f 3 -wi 5 -w 2s -i 10 -r 2s) ; c_rounds=2000000 ;;
  *) echo "usage: bench/run.sh [quick|thorough] [JMH regex]" >&2; exit 2 ;;
esac
JAVA_HOME="$(bin/find-jdk25)"
./mvnw -B -q package -DskipTests -pl bench -am
mkdir -p bench/results bench/target/c
out="bench/results/$(date +%F)-$mode.json"

echo "== C baseline: eventfd + epoll_wait ping-pong between two threads"
gcc -O2 -pthread -o bench/target/c/eventfd_pingpong bench/c/eventfd_pingpong.c
c_ns=$(bench/target/c/eventfd_pingpong "$c_rounds")
echo "eventfd_pingpong: $c_ns ns per round trip"
echo "{\"eventfd_pingpong_ns\": $c_ns, \"rounds\": $c_rounds}" > "${out%.json}-c.json"

echo "== JMH ($mode, '$regex')"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
  --add-exports java.base/jdk.internal.vm=ALL-UNNAMED \
  -cp "bench/target/classes:$(cat bench/target/bench.classpath)" \
  org.openjdk.jmh.Main "$regex" "${jmh_opts[@]}" -prof gc -rf json -rff "$out"
echo "results: $out and ${out%.json}-c.json"
