#!/usr/bin/env bash
# NBD servers head to head: fio --ioengine=nbd, 4 KiB random reads and writes at QD1 and
# QD32, against Aiolos (NbdMain) and its peers, on one image, in one run:
#
#   phase 1   Aiolos with each disk engine (threads, native, io_uring) on the default fd
#             monitor, beside the peers below
#   phase 2   Aiolos with every fd monitor (poll, epoll, io_uring) on phase 1's best engine,
#             beside phase 1's best qemu-nbd again (ratios are taken within a phase)
#   peers     qemu-nbd --aio=threads, --aio=native, --aio=io_uring (all --cache=none -f raw
#             --shared=8), and nbdkit's file plugin with cache=none
#
# Every server opens the image with O_DIRECT except nbdkit (its cache=none evicts pages
# after the fact; it has no O_DIRECT mode), as the result table says. The servers of a
# phase run side by side (idle ones cost nothing) and each workload cell measures them
# back to back, so the figures compared in a cell see the same load on this shared machine.
#
#   bench/nbd.sh [quick|brief|thorough|tls] [IMAGE, default bench/target/nbd-bench.img]
#   bench/nbd.sh rounds [IMAGE] [ROUNDS, default 7] [SECONDS, default 1]
#
# tls: the TLS survey instead of the phases: Aiolos (engine NBD_BENCH_ENGINE,
# default io_uring), qemu-nbd (--aio of the same name) and nbdkit, each in plaintext and with
# TLS required (Aiolos --tls require --tls-creds, qemu-nbd --object tls-creds-x509
# --tls-creds, nbdkit --tls=require --tls-certificates), on certificates this script makes
# with openssl (bench/target/nbd-pki), two rounds; fio reaches the TLS servers at
# nbds://, libnbd finding the CA under a HOME of the script's own.
#
# rounds is the head-to-head that goals are judged by (bench/lib/nbd_rounds.py, the method
# in bench/lib/rounds.py): Aiolos (io_uring engine), qemu-nbd --aio=io_uring and nbdkit take
# turns in ROUNDS short rounds per cell; per-round ratios (median, min-max, bootstrap
# interval), the server's CPU per request, and per goal met / missed / cannot tell.
# NBD_ROUNDS_AIOLOS / NBD_ROUNDS_QEMU (comma lists of engines / --aio values) widen it;
# NBD_ROUNDS_TLS=1 adds a TLS-required twin of every server (certificates made here with
# openssl): TLS against TLS peers, and each server's TLS cost, in the same rounds.
# The other modes below are the survey (every engine and fd monitor, one run per cell).
#
#   bench/nbd.sh memory [IMAGE] [ROUNDS, default 3] [SECONDS, default 3]
#   bench/nbd.sh multiconn [IMAGE] [ROUNDS, default 7] [SECONDS, default 1]
#   bench/nbd.sh ring [IMAGE] [ROUNDS, default 7] [SECONDS, default 1]
#   bench/nbd.sh trace [IMAGE] [ROUNDS, default 5] [SECONDS, default 4]
#   bench/nbd.sh keyupdate [IMAGE] [RUNS, default 5] [SECONDS, default 20]
#
# memory: each server's RSS idle and with 1, 16 and 64 connections at QD32, and the cost
# of each connection beyond the first (bench/lib/nbd_memory.py; goal <= 1 MiB).
# multiconn: one export over 1, 2 and 4 connections (QD32 in total), Aiolos with 1 and 2
# IOThreads beside qemu-nbd and nbdkit (bench/lib/nbd_multiconn.py; goal: 2 IOThreads
# >= 1.3x one from 2 connections). ring: the io_uring engine on the monitor's ring against
# its private ring, with the server's system calls per request counted by perf
# (bench/lib/nbd_ring.py; goals: fewer system calls, IOPS not lower). Both in alternating
# rounds, like rounds. trace: where a QD1 request's time goes (client send, server, disk,
# reply, client) for Aiolos, qemu-nbd and nbdkit, each plain and over TLS, cut from a perf trace of
# their system calls (bench/lib/nbd_trace.py; NBD_TRACE_RW=randread for reads). A diagnosis,
# not a goal. keyupdate: a soak, not a comparison: NbdMain over TLS with a 64 MiB key limit
# (a key update every 32 MiB read) under fio's nbd engine, 4 connections at QD32 verifying
# every block; each run is clean, stalled or an error (bench/lib/nbd_keyupdate_soak.py;
# NBD_KEYUPDATE_BASELINE=DIR runs an earlier build's jars instead). It overwrites IMAGE.
#
# quick: one round of 5 s runs after 2 s of ramp, after a 5 s unmeasured warm-up of each
# server; thorough: three rounds of 10 s runs after 2 s, after 15 s, and the table and
# chart show each cell's median (the disk of this VM moves by up to 2x within minutes). Needs the tools of
# bin/install-test-tools. Writes bench/results/nbd-<date>-<mode>.csv, prints the table
# (IOPS, and Aiolos' best over the best peer) and draws bench/results/nbd-<date>-<mode>.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
image=${2:-bench/target/nbd-bench.img}
pki=bench/target/nbd-pki

# The TLS servers' credentials, made afresh with openssl: a CA and an EC P-256 server
# certificate for 127.0.0.1 in $pki/server (qemu's tls-creds-x509 layout), and the CA
# under $pki/home/.pki/libnbd, where libnbd looks when HOME is $pki/home.
make_pki() {
  command -v openssl >/dev/null || { echo "nbd.sh: openssl is missing" >&2; exit 1; }
  rm -rf "$pki" && mkdir -p "$pki/server" "$pki/home/.pki/libnbd"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/ca-key.pem" \
    -out "$pki/server/ca-cert.pem" -subj "/CN=bench CA" -days 2 -addext basicConstraints=critical,CA:TRUE 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/server/server-key.pem" \
    -out "$pki/server.csr" -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$pki/ext.cnf"
  openssl x509 -req -in "$pki/server.csr" -CA "$pki/server/ca-cert.pem" -CAkey "$pki/ca-key.pem" \
    -CAcreateserial -days 2 -extfile "$pki/ext.cnf" -out "$pki/server/server-cert.pem" 2>/dev/null
  cp "$pki/server/ca-cert.pem" "$pki/home/.pki/libnbd/ca-cert.pem"
}
if [ "$mode" = rounds ] || [ "$mode" = memory ] || [ "$mode" = multiconn ] || [ "$mode" = ring ] \
    || [ "$mode" = trace ] || [ "$mode" = keyupdate ]; then
  for tool in fio qemu-nbd nbdkit nbdinfo python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "nbd.sh: $tool is missing; run bin/install-test-tools" >&2; exit 1; }
  done
  JAVA_HOME="$(bin/find-jdk25)"
  export JAVA_HOME
  [ -n "${AIOLOS_BENCH_BUILT:-}" ] || ./mvnw -B -q package -DskipTests -pl bench -am
  mkdir -p "$(dirname "$image")"
  if [ ! -f "$image" ] || [ "$(stat -c %s "$image")" -ne $((1 << 30)) ]; then
    rm -f "$image"
    fio --name=prep --filename="$image" --rw=write --bs=1M --size=1G --direct=1 --ioengine=psync >/dev/null
  fi
  out=${AIOLOS_BENCH_OUT:-bench/results/nbd-$mode-$(date +%F-%H%M)}
  mkdir -p "$out"
  if [ "$mode" = memory ]; then
    python3 bench/lib/nbd_memory.py --image "$image" --rounds "${3:-3}" --seconds "${4:-3}" --out "$out" \
      | tee "$out/nbd-memory-console.txt"
    exit 0
  fi
  if [ "$mode" = multiconn ]; then
    python3 bench/lib/nbd_multiconn.py --image "$image" --rounds "${3:-7}" --seconds "${4:-1}" --out "$out" \
      | tee "$out/nbd-multiconn-console.txt"
    exit 0
  fi
  if [ "$mode" = ring ]; then
    command -v perf >/dev/null 2>&1 || { echo "nbd.sh ring: perf is missing (apt-get install linux-perf)" >&2; exit 1; }
    python3 bench/lib/nbd_ring.py --image "$image" --rounds "${3:-7}" --seconds "${4:-1}" --out "$out" \
      | tee "$out/nbd-ring-console.txt"
    exit 0
  fi
  if [ "$mode" = trace ]; then
    command -v perf >/dev/null 2>&1 || { echo "nbd.sh trace: perf is missing (apt-get install linux-perf)" >&2; exit 1; }
    make_pki
    python3 bench/lib/nbd_trace.py --image "$image" --rounds "${3:-5}" --seconds "${4:-4}" --out "$out" \
      --tls "$pki/server" --tls-home "$pki/home" --rw "${NBD_TRACE_RW:-randwrite}" | tee "$out/nbd-trace-console.txt"
    exit 0
  fi
  if [ "$mode" = keyupdate ]; then
    make_pki
    baseline=()
    [ -z "${NBD_KEYUPDATE_BASELINE:-}" ] || baseline=(--baseline "$NBD_KEYUPDATE_BASELINE")
    python3 bench/lib/nbd_keyupdate_soak.py --image "$image" --runs "${3:-5}" --seconds "${4:-20}" --out "$out" \
      --tls "$pki/server" --tls-home "$pki/home" "${baseline[@]}" | tee "$out/nbd-keyupdate-console.txt"
    exit "${PIPESTATUS[0]}"
  fi
  tls=()
  if [ -n "${NBD_ROUNDS_TLS:-}" ]; then
    # NBD_ROUNDS_TLS=1: every server also runs with TLS required, on certificates made here.
    make_pki
    tls=(--tls "$pki/server" --tls-home "$pki/home")
  fi
  python3 bench/lib/nbd_rounds.py --image "$image" --rounds "${3:-7}" --seconds "${4:-1}" --out "$out" \
    --aiolos "${NBD_ROUNDS_AIOLOS:-io_uring}" --qemu "${NBD_ROUNDS_QEMU:-io_uring}" "${tls[@]}" \
    | tee "$out/nbd-console.txt"
  exit 0
fi
case "$mode" in
  quick) secs=5; ramp=2; warmup=5; rounds=1; phases=2 ;;
  # brief: phase 1 only, 2 s runs: what bench/run.sh quick includes to stay under 10 minutes.
  brief) secs=2; ramp=1; warmup=3; rounds=1; phases=1 ;;
  thorough) secs=10; ramp=2; warmup=15; rounds=3; phases=2 ;;
  tls) secs=5; ramp=2; warmup=5; rounds=2; phases=0 ;;
  *) echo "usage: bench/nbd.sh [quick|brief|thorough|tls|rounds|memory|multiconn|ring|trace|keyupdate] [IMAGE]" >&2; exit 2 ;;
esac
# NBD_BENCH_SECS / NBD_BENCH_RAMP / NBD_BENCH_WARMUP override the mode's lengths (a smoke test of the script).
secs=${NBD_BENCH_SECS:-$secs}
ramp=${NBD_BENCH_RAMP:-$ramp}
warmup=${NBD_BENCH_WARMUP:-$warmup}
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
# bench/run.sh passes AIOLOS_BENCH_OUT so the results land beside the rest of its run.
results=${AIOLOS_BENCH_OUT:-bench/results}
mkdir -p "$results"
csv="$results/nbd-$stamp.csv"
echo "server,variant,rw,qd,iops,lat_us,server_cpu_pct,round" > "$csv"
txt="$results/nbd-$stamp.txt"
{
  echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) cores, $(fio --version), $(qemu-nbd --version | head -1),"
  echo "# $(nbdkit --version), image $image ($(df -T "$image" | awk 'NR==2{print $2}')), ${rounds} round(s) of ${secs}s runs after ${ramp}s ramp, ${warmup}s warm-up per server"
  echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# busy processes now (top, over 1 s): $(busy)"
} | tee "$txt"

port=10900
# The servers of the current phase, by index: what they are, their port, their pid, and
# whether they want TLS (nbds://).
names=() variants=() ports=() pids=() schemes=()
# What the next launch speaks: nbd, or nbds for a TLS server.
scheme=nbd
# nbd://127.0.0.1:PORT/bench, or nbds:// (libnbd finds the CA under $pki/home when HOME points there).
uri_of() { # SCHEME PORT
  echo "$1://127.0.0.1:$2/bench"
}
client_home() { # SCHEME
  if [ "$1" = nbds ]; then echo "$PWD/$pki/home"; else echo "$HOME"; fi
}
stop_all() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  names=() variants=() ports=() pids=() schemes=()
}
trap stop_all EXIT

port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# launch SERVER VARIANT COMMAND...: starts the server in the background on the next free
# port (the command reads $port; the server functions exec, so the pid is the server's
# own), waits until export "bench" answers and the process is still alive.
launch() {
  local server=$1 variant=$2 pid log
  shift 2
  port=$((port + 1))
  while port_busy "$port"; do port=$((port + 1)); done # never measure someone else's server
  log="bench/target/nbd-server-$port.log"
  "$@" > "$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    # NbdMain prints its line just after the export is up: wait for it, it names the fd monitor.
    if HOME=$(client_home "$scheme") nbdinfo --size "$(uri_of "$scheme" "$port")" >/dev/null 2>&1 \
        && kill -0 "$pid" 2>/dev/null \
        && { [ "$server" != aiolos ] || grep -q "^listening on" "$log"; }; then
      if [ "$server" = aiolos ]; then
        variant="$variant/$(sed -n 's/.*fdmon \([a-z_]*\)).*/\1/p' "$log" | head -1)"
      fi
      names+=("$server") variants+=("$variant") ports+=("$port") pids+=("$pid") schemes+=("$scheme")
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  echo "$server $variant did not start; left out:" | tee -a "$txt"
  tee -a "$txt" < "$log"
  return 1
}

# CPU seconds (user+system) process $1 has used.
tick=$(getconf CLK_TCK)
cpu_of() {
  awk -v t="$tick" '{print ($14 + $15) / t}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# warm_up_all: an unmeasured mixed run on each server first, equal for all: the JVM's JIT
# compiles Aiolos' hot paths during it (the C servers just serve it).
warm_up_all() {
  local i
  for i in "${!pids[@]}"; do
    HOME=$(client_home "${schemes[$i]}") fio --name=warmup --ioengine=nbd \
      --uri="$(uri_of "${schemes[$i]}" "${ports[$i]}")" --rw=randrw --bs=4k \
      --iodepth=16 --numjobs=1 --time_based --runtime="$warmup" --randrepeat=0 --norandommap \
      --output-format=terse >/dev/null 2>&1 || true
  done
}

# measure_all: every workload cell, each measured on every running server back to back,
# so the servers compared in a cell see the same machine load.
measure_all() {
  local rw qd i j json iops lat c0 c1 cpu cell=0 n=${#pids[@]} round
  for round in $(seq 1 "$rounds"); do
  for rw in randread randwrite; do
    for qd in 1 32; do
      cell=$((cell + 1))
      for j in $(seq 0 $((n - 1))); do
        i=$(((j + cell) % n)) # each cell starts with another server: no server always goes last
        c0=$(cpu_of "${pids[$i]}")
        if ! json=$(HOME=$(client_home "${schemes[$i]}") fio --name=bench --ioengine=nbd \
            --uri="$(uri_of "${schemes[$i]}" "${ports[$i]}")" --rw="$rw" \
            --bs=4k --iodepth="$qd" --numjobs=1 --time_based --runtime="$secs" --ramp_time="$ramp" \
            --randrepeat=0 --norandommap --output-format=json 2>/dev/null); then
          echo "${names[$i]} ${variants[$i]} $rw QD$qd: fio failed; left out" | tee -a "$txt"
          continue
        fi
        c1=$(cpu_of "${pids[$i]}")
        read -r iops lat < <(python3 -c '
import json, sys
s = sys.stdin.read()
j = json.loads(s[s.index("{"):])["jobs"][0][sys.argv[1]]  # past any line fio prints first
print("%.0f %.1f" % (j["iops"], j["lat_ns"]["mean"] / 1000))' "${rw#rand}" <<< "$json")
        cpu=$(awk -v a="$c0" -v b="$c1" -v t="$((secs + ramp))" 'BEGIN{printf "%.0f", 100 * (b - a) / t}')
        echo "${names[$i]},${variants[$i]},$rw,$qd,$iops,$lat,$cpu,$round" >> "$csv"
        printf "%-8s %-22s %-9s %3s %9s IOPS %9s us  server CPU %4s%%  round %s\n" "${names[$i]}" \
          "${variants[$i]}" "$rw" "$qd" "$iops" "$lat" "$cpu" "$round" | tee -a "$txt"
      done
    done
  done
  done
}

aiolos() { # ENGINE [FDMON]
  local args=(--file "$image" --name bench --address 127.0.0.1 --port "$port" --direct --engine "$1")
  [ -n "${2:-}" ] && args+=(--fdmon "$2")
  [ "$scheme" = nbds ] && args+=(--tls require --tls-creds "$pki/server")
  exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.vm=ALL-UNNAMED \
    -cp "$(cat bench/target/bench.classpath):bench/target/classes" org.aiolos.nbd.NbdMain "${args[@]}"
}
qemu_nbd() { # AIO
  local tls=()
  [ "$scheme" = nbds ] && tls=(--object "tls-creds-x509,id=tls0,endpoint=server,dir=$pki/server,verify-peer=off" --tls-creds tls0)
  exec qemu-nbd -f raw --persistent --shared=8 -t -b 127.0.0.1 -p "$port" -x bench --cache=none --aio="$1" \
    "${tls[@]}" "$image"
}
nbdkit_file() {
  local tls=()
  [ "$scheme" = nbds ] && tls=(--tls=require "--tls-certificates=$pki/server")
  exec nbdkit -f -i 127.0.0.1 -p "$port" -e bench "${tls[@]}" file "$image" cache=none
}

# The TLS head to head: certificates (a CA, a server for 127.0.0.1), then each server
# plain and with TLS, measured side by side.
if [ "$mode" = tls ]; then
  make_pki
  engine=${NBD_BENCH_ENGINE:-io_uring}
  echo "== tls: each server in plaintext and with TLS required (engine / --aio $engine)" | tee -a "$txt"
  for scheme in nbd nbds; do
    tag=plain; [ "$scheme" = nbds ] && tag=tls
    launch qemu-nbd "aio=$engine $tag" qemu_nbd "$engine" || true
    launch nbdkit "file $tag" nbdkit_file || true
    launch aiolos "$engine $tag" aiolos "$engine" || true
  done
  scheme=nbd
  warm_up_all
  measure_all
  stop_all
  echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg); busy processes now: $(busy)" | tee -a "$txt"
  python3 - "$csv" <<'PY' | tee -a "$txt"
import csv, collections, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cell = collections.defaultdict(list)
for r in rows:
    server = r["server"]
    mode = "tls" if " tls" in r["variant"] else "plain"
    cell[(server, mode, r["rw"], r["qd"])].append(float(r["iops"]))
def median(v):
    v = sorted(v)
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2
med = {k: median(v) for k, v in cell.items()}
print("median IOPS per cell; TLS cost = TLS / plaintext of the same server")
print("%-9s %-9s %3s %10s %10s %10s %10s %10s %10s %9s %9s %9s" % ("rw", "", "qd", "aiolos", "aiolos-tls",
      "qemu-nbd", "qemu-tls", "nbdkit", "nbdkit-tls", "cost-aio", "cost-qemu", "cost-kit"))
for rw in ("randread", "randwrite"):
    for qd in ("1", "32"):
        g = lambda s, m: med.get((s, m, rw, qd), float("nan"))
        a, at, q, qt, n, nt = (g("aiolos", "plain"), g("aiolos", "tls"), g("qemu-nbd", "plain"),
                               g("qemu-nbd", "tls"), g("nbdkit", "plain"), g("nbdkit", "tls"))
        print("%-9s %-9s %3s %10.0f %10.0f %10.0f %10.0f %10.0f %10.0f %9.2f %9.2f %9.2f" % (rw, "", qd, a, at, q, qt,
              n, nt, at / a, qt / q, nt / n))
PY
  echo "results: $csv and $txt"
  exit 0
fi

echo "== phase 1: the peers and each Aiolos engine on the default fd monitor" | tee -a "$txt"
for aio in threads native io_uring; do
  launch qemu-nbd "aio=$aio" qemu_nbd "$aio" || true
done
launch nbdkit "file cache=none" nbdkit_file || true
for engine in threads native io_uring; do
  launch aiolos "$engine" aiolos "$engine" || true
done
warm_up_all
measure_all
stop_all

best=$(awk -F, '$1 == "aiolos" { split($2, v, "/"); s[v[1]] += log($5 + 1) } END {
  for (e in s) if (m == "" || s[e] > m) { m = s[e]; b = e } print b }' "$csv")
# qemu-nbd's best --aio of phase 1 runs again beside phase 2, so phase 2 has its own
# same-time reference.
peer=$(awk -F, '$1 == "qemu-nbd" { s[$2] += log($5 + 1) } END {
  for (v in s) if (m == "" || s[v] > m) { m = s[v]; b = v } print b }' "$csv")
if [ -n "$best" ] && [ "$phases" -ge 2 ]; then
  echo "== phase 2: each fd monitor on the best engine of phase 1 ($best), beside qemu-nbd $peer" | tee -a "$txt"
  if [ -n "$peer" ] && launch qemu-nbd "$peer" qemu_nbd "${peer#aio=}"; then
    variants[-1]="${variants[-1]} (2)"
  fi
  for fdmon in poll epoll io_uring; do
    if launch aiolos "$best" aiolos "$best" "$fdmon"; then
      variants[-1]="${variants[-1]} (2)" # phase 2's rows apart from phase 1's in the table
    fi
  done
  warm_up_all
  measure_all
  stop_all
fi

echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg); busy processes now: $(busy)" | tee -a "$txt"
python3 bench/scripts/nbd_chart.py "$csv" "$results/nbd-$stamp.svg" | tee -a "$txt"
echo "results: $csv, $txt and $results/nbd-$stamp.svg"
