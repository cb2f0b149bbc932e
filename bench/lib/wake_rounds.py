#!/usr/bin/env python3
"""The event loops against Netty on the cross-thread round trip, in alternating rounds.

Each loop runs in its own JVM (org.aiolos.bench.WakeRounds LOOP, loops named as in
PeerLoop: aiolos-poll, aiolos-io_uring+polling, netty-epoll, ...), warm after an unmeasured
round; the C eventfd + epoll_wait ping-pong (bench/c/eventfd_pingpong, a process per round)
takes its turn too, as the limit of a cross-thread wake on this machine. Rate is round trips
per second (higher is better; the mean round trip is its inverse); CPU per round trip is
the process's CPU (both its threads) over the round.

    wake_rounds.py [--loops L1,L2,...] [--reference netty-epoll] [--rounds 7] [--seconds 1]
                   [--pairs A:B,...] [--out DIR] [--java-opt O]... [--baseline DIR]

A loop named LOOP@base runs from the saved earlier build in DIR (before/after in one run).

Compares every Aiolos loop with the reference (goal: at least its rate, >= 1.0x) and with the
C limit (no goal), and each --pairs A:B (no goal; e.g. aiolos-io_uring+polling:aiolos-io_uring,
what adaptive polling brings). Also reports the loop thread's bytes allocated per round trip.
Writes DIR/wake-rounds.md and .json.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rounds  # noqa: E402
from disk_rounds import java_command, ROOT  # noqa: E402

C_PINGPONG = os.path.join(ROOT, "bench/target/c/eventfd_pingpong")


class WakeLoop(rounds.Contender):
    """LOOP, or LOOP@base: the same loop from the saved build given by --baseline."""

    def __init__(self, loop, java_opts, baseline=None):
        self.name = loop
        base = loop.endswith("@base")
        if base and not baseline:
            raise SystemExit(f"{loop}: --baseline DIR is needed")
        self.cmd = java_command(java_opts, baseline if base else None) + [
            "org.aiolos.bench.WakeRounds", loop[:-len("@base")] if base else loop]
        self.proc = None
        self.bytes_per_op = []

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.proc.kill()
            raise RuntimeError(f"WakeRounds {self.name} did not start ({line!r})")

    def round(self, seconds):
        c0 = rounds.proc_cpu_seconds(self.proc.pid)
        self.proc.stdin.write(f"{seconds}\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().split()
        c1 = rounds.proc_cpu_seconds(self.proc.pid)
        if len(reply) != 3:
            raise RuntimeError(f"WakeRounds {self.name}: no round result")
        n, ns, loop_bytes = (int(x) for x in reply)
        self.bytes_per_op.append(loop_bytes / n)
        return rounds.Sample(n, ns / 1e9, c1 - c0)

    def stop(self):
        if self.proc:
            self.proc.stdin.write("\n")
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class CPingPong(rounds.Contender):
    """A process per round; the number of round trips is sized from the previous round so
    that a round lasts about the asked time (its own 10 % warm-up is not counted)."""

    name = "C eventfd+epoll_wait"

    def __init__(self):
        self.trips = 20000

    def round(self, seconds):
        p = subprocess.Popen([C_PINGPONG, str(self.trips)], stdout=subprocess.PIPE, text=True)
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError("eventfd_pingpong failed")
        ns = float(out.strip())
        n = self.trips
        # The CPU covers the warm-up tenth too: count it in the operations.
        s = rounds.Sample(n, n * ns / 1e9, (ru.ru_utime + ru.ru_stime) * n / (n * 1.1))
        self.trips = max(1000, int(seconds * 1e9 / ns))
        return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loops", default="aiolos-poll,aiolos-epoll,aiolos-io_uring,aiolos-poll+polling,"
                                       "aiolos-epoll+polling,aiolos-io_uring+polling,netty-epoll,netty-io_uring")
    ap.add_argument("--reference", default="netty-epoll")
    ap.add_argument("--pairs", default="")
    ap.add_argument("--no-c", action="store_true")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--java-opt", action="append", default=[])
    ap.add_argument("--baseline", help="a directory of earlier Aiolos jars, for loops named LOOP@base")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/results", "wake-rounds-" + time.strftime("%F-%H%M")))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if not a.no_c and not os.path.exists(C_PINGPONG):
        os.makedirs(os.path.dirname(C_PINGPONG), exist_ok=True)
        subprocess.run(["gcc", "-O2", "-pthread", "-o", C_PINGPONG, os.path.join(ROOT, "bench/c/eventfd_pingpong.c")],
                       check=True)
    loops = [WakeLoop(l, a.java_opt, a.baseline) for l in a.loops.split(",")]
    contenders = list(loops) + ([] if a.no_c else [CPingPong()])
    started = []
    command = "bench/lib/wake_rounds.py " + " ".join(sys.argv[1:])
    table = rounds.Table("Cross-thread round trip (task into a sleeping loop and back), alternating rounds",
                         rounds.run_line(command, a.rounds, a.seconds) + "; rate = round trips/s, each loop its own JVM")
    try:
        for c in contenders:
            try:
                c.start()
                started.append(c)
            except RuntimeError as e:
                print(f"left out: {e}", flush=True)
        res = rounds.alternate(started, a.rounds, a.seconds, warmup_seconds=a.seconds,
                               log=lambda m: print(m, flush=True))
    finally:
        for c in started:
            c.stop()
    names = [c.name for c in started]
    for l in loops:
        if l not in started or not l.name.startswith("aiolos"):
            continue
        if a.reference in names:
            table.add(rounds.Comparison("round trip", res, l.name, a.reference), 1.0)
        if CPingPong.name in names:
            table.add(rounds.Comparison("round trip", res, l.name, CPingPong.name), None)
    for pair in filter(None, a.pairs.split(",")):
        x, y = pair.split(":")
        if x in names and y in names:
            table.add(rounds.Comparison("round trip", res, x, y), None)
    table.notes.append("Loop thread allocation per round trip (median over rounds, bytes): " + ", ".join(
        f"{l.name} {statistics.median(l.bytes_per_op):.1f}" for l in loops if l.bytes_per_op))
    table.notes.append("Mean round trip (median over rounds, us): " + ", ".join(
        f"{n} {1e6 / statistics.median([s.rate for s in res[n] if s]):.1f}" for n in names if any(res[n])))
    table.run_line += f"; load after {rounds.loadavg()}"
    table.write(os.path.join(a.out, "wake-rounds.md"), os.path.join(a.out, "wake-rounds.json"))
    print(table.render())


if __name__ == "__main__":
    main()
