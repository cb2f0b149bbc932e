#!/usr/bin/env python3
"""Resident memory of the NBD servers, idle and with 1, 16 and 64 client connections at QD32.

Every server (Aiolos NbdMain with the io_uring engine, qemu-nbd --aio=io_uring, nbdkit file)
runs on the same image; for each, in turn, fio --ioengine=nbd opens N connections (numjobs N,
one connection per job) doing 4 KiB random reads at iodepth 32 for a few seconds, while the
server's VmRSS (/proc/PID/status) is sampled every 100 ms; the stage's figure is the highest
sample. The stages run idle -> 1 -> 16 -> 64 -> idle, the servers taking turns stage by stage
(a server's RSS does not depend on the others', but the same load order keeps it fair), and
the whole sequence is repeated ROUNDS times on the same processes: a JVM's heap only grows, so
the rounds after the first show what stays.

Per connection beyond the first: (RSS at 64 - RSS at 1) / 63 and (RSS at 16 - RSS at 1) / 15,
median over the rounds; goal <= 1 MiB. Verdict per goal: met / missed / cannot tell (when
the rounds fall on both sides).

    nbd_memory.py --image F [--seconds 3] [--rounds 3] [--conns 1,16,64] [--out DIR]
                  [--java-opt O]...

Writes DIR/nbd-memory.md and DIR/nbd-memory.json.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rounds  # noqa: E402
from disk_rounds import ROOT  # noqa: E402
from nbd_rounds import NbdServer, aiolos_argv, nbdkit_argv, start_all  # noqa: E402


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def qemu_many_argv(image, aio):
    # --shared=0: any number of clients (the default 1 and the rounds' 8 would refuse 64).
    return lambda port: ["qemu-nbd", "-f", "raw", "--persistent", "--shared=0", "-t", "-b", "127.0.0.1",
                         "-p", str(port), "-x", "bench", "--cache=none", f"--aio={aio}", image]


def stage(server, conns, seconds):
    """Highest RSS (KiB) of the server while conns connections run QD32 reads (0: idle)."""
    peak = [rss_kib(server.proc.pid)]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kib(server.proc.pid))
            time.sleep(0.1)

    t = threading.Thread(target=sample)
    t.start()
    try:
        if conns == 0:
            time.sleep(seconds)
            ops = 0
        else:
            r = subprocess.run(["fio", "--name=mem", "--ioengine=nbd", f"--uri={server.uri()}", "--rw=randread",
                                "--bs=4k", "--iodepth=32", f"--numjobs={conns}", "--group_reporting",
                                "--time_based", f"--runtime={seconds}", "--randrepeat=0", "--norandommap",
                                "--output-format=json"], capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"fio with {conns} connections failed: {r.stderr[-400:]}")
            ops = json.loads(r.stdout[r.stdout.index("{"):])["jobs"][0]["read"]["total_ios"]
    finally:
        stop.set()
        t.join()
    return peak[0], ops


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--conns", default="1,16,64")
    ap.add_argument("--java-opt", action="append", default=[])
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/results", "nbd-memory-" + time.strftime("%F-%H%M")))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    conns = [int(c) for c in a.conns.split(",")]
    # The heap the distribution's launchers give the server (bin/aiolos, bin/aiolos-jpms); a
    # --java-opt -Xmx comes later and wins. Without it the JVM may take a quarter of the
    # machine's memory, and RSS measures the collector's sizing, not the server.
    heap = ["-Xms32m", "-Xmx256m"]
    servers = [NbdServer("aiolos io_uring", aiolos_argv(a.image, "io_uring", None, heap + a.java_opt), "randread", 32,
                         1),
               NbdServer("qemu-nbd io_uring", qemu_many_argv(a.image, "io_uring"), "randread", 32, 1),
               NbdServer("nbdkit file", nbdkit_argv(a.image), "randread", 32, 1)]
    run = rounds.run_line("bench/lib/nbd_memory.py " + " ".join(sys.argv[1:]), a.rounds, a.seconds)
    stages = [0] + conns + [0]
    # data[server][round] = [(conns, rss KiB, ops) per stage]
    data = {s.name: [] for s in servers}
    started = []
    try:
        start_all(servers, 0, started)
        for r in range(a.rounds):
            for s in started:
                data[s.name].append([])
            for c in stages:
                for s in started:
                    kib, ops = stage(s, c, a.seconds)
                    data[s.name][r].append((c, kib, ops))
                    print(f"  round {r + 1} {s.name:20s} {c:3d} connections: RSS {kib / 1024:8.1f} MiB"
                          + (f"  ({ops / a.seconds:.0f} IOPS)" if c else ""), flush=True)
    finally:
        for s in started:
            s.stop()
    lines = ["## NBD server memory: RSS idle and with N connections at QD32", "", run + f"; load after {rounds.loadavg()}",
             "", "| server | idle at start, MiB | " + " | ".join(f"{c} conn, MiB" for c in conns)
             + " | idle after, MiB | per extra connection (1 -> " + str(conns[-1]) + "), KiB [min-max] "
             + "| per extra connection (1 -> " + str(conns[1] if len(conns) > 1 else conns[-1]) + "), KiB | goal <= 1 MiB |",
             "|---|" + "---|" * (len(conns) + 5)]
    summary = {}
    for s in started:
        rs = data[s.name]

        def med(i):
            return statistics.median(x[i][1] for x in rs) / 1024

        i1, ilast = 1, len(conns)
        per_last = [(x[ilast][1] - x[i1][1]) / (conns[-1] - conns[0]) for x in rs]
        per_mid = [(x[2][1] - x[i1][1]) / (conns[1] - conns[0]) for x in rs] if len(conns) > 2 else per_last
        if max(per_last) <= 1024:
            verdict = "met"
        elif min(per_last) > 1024:
            verdict = "missed"
        else:
            verdict = "cannot tell"
        summary[s.name] = {"rounds": rs, "per_conn_kib_last": per_last, "per_conn_kib_mid": per_mid, "verdict": verdict}
        lines.append(f"| {s.name} | {med(0):.1f} | " + " | ".join(f"{med(i + 1):.1f}" for i in range(len(conns)))
                     + f" | {med(len(conns) + 1):.1f} | {statistics.median(per_last):.0f} "
                     f"[{min(per_last):.0f}-{max(per_last):.0f}] | {statistics.median(per_mid):.0f} | {verdict} |")
    lines += ["", "RSS figures: median over the rounds of each stage's highest 100 ms sample."]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "nbd-memory.md"), "w") as f:
        f.write(text)
    with open(os.path.join(a.out, "nbd-memory.json"), "w") as f:
        json.dump({"run": run, "conns": conns, "servers": summary}, f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
