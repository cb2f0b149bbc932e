#!/usr/bin/env bash
# NBD servers head to head: fio --ioengine=nbd, 4 KiB random reads and writes at QD1 and
# QD32, against Aiolos (NbdMain) and its peers, on one image, in one run:
#
#   aiolos    each disk engine (threads, native, io_uring) on the default fd monitor,
#             then every fd monitor (poll, epoll, io_uring) on the best of those engines
#   qemu-nbd  --aio=threads, --aio=native, --aio=io_uring; all --cache=none -f raw
#   nbdkit    the file plugin, cache=none
#
# Every server opens the image with O_DIRECT except nbdkit (its cache=none evicts pages
# after the fact; it has no O_DIRECT mode), as the result table says.
#
#   bench/nbd.sh [quick|thorough] [IMAGE, default bench/target/nbd-bench.img]
#
# quick: 5 s per run after 2 s of ramp; thorough: 20 s after 5 s. Needs the tools of
# bin/install-test-tools. Writes bench/results/nbd-<date>-<mode>.csv, prints the table
# (IOPS, and Aiolos' best over the best peer) and draws bench/results/nbd-<date>-<mode>.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
image=${2:-bench/target/nbd-bench.img}
case "$mode" in
  quick) secs=5; ramp=2 ;;
  thorough) secs=20; ramp=5 ;;
  *) echo "usage: bench/nbd.sh [quick|thorough] [IMAGE]" >&2; exit 2 ;;
esac
# NBD_BENCH_SECS / NBD_BENCH_RAMP override the mode's lengths (a smoke test of the script).
secs=${NBD_BENCH_SECS:-$secs}
ramp=${NBD_BENCH_RAMP:-$ramp}
for tool in fio qemu-nbd nbdkit nbdinfo python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "nbd.sh: $tool is missing; run bin/install-test-tools" >&2; exit 1; }
done
JAVA_HOME="$(bin/find-jdk25)"
./mvnw -B -q package -DskipTests -pl bench -am
mkdir -p bench/results "$(dirname "$image")"
if [ ! -f "$image" ] || [ "$(stat -c %s "$image")" -ne $((1 << 30)) ]; then
  # Written, not fallocated: reads of unwritten extents never reach the disk.
  echo "== writing the 1 GiB image $image"
  rm -f "$image"
  fio --name=prep --filename="$image" --rw=write --bs=1M --size=1G --direct=1 --ioengine=psync >/dev/null
fi

# What else runs (the cores are shared): processes above 5% CPU in top's second sample.
busy() {
  top -b -n 2 -d 1 | awk '/^top -/ { n++ } n == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 > 5 { printf "%s(%s%%) ", $12, $9 }'
}

stamp="$(date +%F-%H%M)-$mode"
csv="bench/results/nbd-$stamp.csv"
log="bench/target/nbd-server.log"
echo "server,variant,rw,qd,iops,lat_us,server_cpu_pct" > "$csv"
txt="bench/results/nbd-$stamp.txt"
{
  echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) cores, $(fio --version), $(qemu-nbd --version | head -1),"
  echo "# $(nbdkit --version), image $image ($(df -T "$image" | awk 'NR==2{print $2}')), ${secs}s per run after ${ramp}s ramp"
  echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# busy processes now (top, over 1 s): $(busy)"
} | tee "$txt"

port=10900
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap stop_server EXIT

port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
# start_server COMMAND...: starts it in the background on the next free port (the command
# reads $port), waits until export "bench" answers and the process is still alive.
start_server() {
  port=$((port + 1))
  while port_busy "$port"; do port=$((port + 1)); done # never measure someone else's server
  local uri="nbd://127.0.0.1:$port/bench"
  "$@" > "$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    if nbdinfo --size "$uri" >/dev/null 2>&1 && kill -0 "$server_pid" 2>/dev/null; then
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || { echo "server exited:"; cat "$log"; server_pid=""; return 1; }
    sleep 0.1
  done
  echo "server did not answer on $uri within 30 s:"; cat "$log"; stop_server; return 1
}

# CPU seconds (user+system) the server process has used. The server functions exec, so
# $server_pid is the server itself, not a subshell.
tick=$(getconf CLK_TCK)
server_cpu() {
  awk -v t="$tick" '{print ($14 + $15) / t}' "/proc/$server_pid/stat" 2>/dev/null || echo 0
}

# measure SERVER VARIANT: the four fio runs against the running server.
measure() {
  local server=$1 variant=$2 rw qd json iops lat c0 c1 cpu
  for rw in randread randwrite; do
    for qd in 1 32; do
      c0=$(server_cpu)
      if ! json=$(fio --name=bench --ioengine=nbd --uri="nbd://127.0.0.1:$port/bench" --rw="$rw" --bs=4k \
          --iodepth="$qd" --numjobs=1 --time_based --runtime="$secs" --ramp_time="$ramp" \
          --randrepeat=0 --norandommap --output-format=json 2>/dev/null); then
        echo "$server $variant $rw QD$qd: fio failed; skipped" | tee -a "$txt"
        continue
      fi
      c1=$(server_cpu)
      read -r iops lat < <(python3 -c '
import json, sys
s = sys.stdin.read()
j = json.loads(s[s.index("{"):])["jobs"][0][sys.argv[1]]  # past any line fio prints first
print("%.0f %.1f" % (j["iops"], j["lat_ns"]["mean"] / 1000))' "${rw#rand}" <<< "$json")
      cpu=$(awk -v a="$c0" -v b="$c1" -v t="$((secs + ramp))" 'BEGIN{printf "%.0f", 100 * (b - a) / t}')
      echo "$server,$variant,$rw,$qd,$iops,$lat,$cpu" >> "$csv"
      printf "%-8s %-22s %-9s %3s %9s IOPS %9s us  server CPU %4s%%\n" "$server" "$variant" "$rw" "$qd" \
        "$iops" "$lat" "$cpu"
    done
  done
}

aiolos() { # ENGINE [FDMON]
  local args=(--file "$image" --name bench --address 127.0.0.1 --port "$port" --direct --engine "$1")
  [ -n "${2:-}" ] && args+=(--fdmon "$2")
  exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.vm=ALL-UNNAMED \
    -cp "$(cat bench/target/bench.classpath):bench/target/classes" org.aiolos.nbd.NbdMain "${args[@]}"
}

run_aiolos() { # ENGINE [FDMON]
  if start_server aiolos "$@"; then
    local fdmon
    fdmon=$(sed -n 's/.*fdmon \([a-z_]*\)).*/\1/p' "$log" | head -1)
    measure aiolos "$1/${fdmon:-?}${2:+ (set)}"
    stop_server
  else
    echo "aiolos $1 ${2:-}: did not start; skipped" | tee -a "$txt"
  fi
}

run_peer() { # SERVER VARIANT COMMAND...
  local server=$1 variant=$2
  shift 2
  if start_server "$@"; then
    measure "$server" "$variant"
    stop_server
  else
    echo "$server $variant: did not start; skipped" | tee -a "$txt"
  fi
}

qemu_nbd() { # AIO
  exec qemu-nbd -f raw --persistent --shared=8 -t -b 127.0.0.1 -p "$port" -x bench --cache=none --aio="$1" "$image"
}
nbdkit_file() {
  exec nbdkit -f -i 127.0.0.1 -p "$port" -e bench file "$image" cache=none
}

echo "== peers"
for aio in threads native io_uring; do
  run_peer qemu-nbd "aio=$aio" qemu_nbd "$aio"
done
run_peer nbdkit "file cache=none" nbdkit_file

echo "== aiolos: each engine on the default fd monitor"
for engine in threads native io_uring; do
  run_aiolos "$engine"
done
best=$(awk -F, '$1 == "aiolos" { split($2, v, "/"); s[v[1]] += log($5 + 1) } END {
  for (e in s) if (s[e] > m || m == "") { m = s[e]; b = e } print b }' "$csv")
if [ -n "$best" ]; then
  echo "== aiolos: each fd monitor on the best engine ($best)"
  for fdmon in poll epoll io_uring; do
    run_aiolos "$best" "$fdmon"
  done
fi

echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg); busy processes now: $(busy)" | tee -a "$txt"
python3 bench/scripts/nbd_chart.py "$csv" "bench/results/nbd-$stamp.svg" | tee -a "$txt"
echo "results: $csv, $txt and bench/results/nbd-$stamp.svg"
