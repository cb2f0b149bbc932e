#!/usr/bin/env python3
"""One io_uring ring for fd monitoring and disk I/O (QEMU 10.2's aio_add_sqe) against the
engine's private ring, through NBD, in alternating rounds (the method: rounds.py):

    shared    NbdMain --fdmon io_uring --engine io_uring: the engine queues its SQEs on
              the monitor's ring, so one io_uring_enter submits and waits
    private   the same with -Daiolos.io_uring.shared-ring=false: the engine's own ring,
              watched by the monitor (Aiolos before the change, QEMU before 10.2)
    epoll     --fdmon epoll: the private ring under epoll, for reference

Cells: fio --ioengine=nbd 4 KiB randread and randwrite at QD1 and QD32, one connection.
During every round perf counts the server's system calls over all its threads
(raw_syscalls:sys_enter, and syscalls:sys_enter_io_uring_enter). Goals (issue 17): fewer
system calls per request shared than private (every round), IOPS not lower.

    nbd_ring.py --image F [--seconds 1] [--rounds 7] [--rw ...] [--qd 1,32] [--out DIR]

Writes DIR/nbd-ring.md and DIR/nbd-ring.json.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rounds  # noqa: E402
from nbd_rounds import NbdServer, aiolos_argv, common_args, finish, qd_cells, run_cells, start_all  # noqa: E402

SYSCALLS = "raw_syscalls:sys_enter"
ENTERS = "syscalls:sys_enter_io_uring_enter"


def main():
    ap = argparse.ArgumentParser()
    common_args(ap, "nbd-ring")
    ap.add_argument("--qd", default="1,32")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    events = [SYSCALLS, ENTERS]
    shared = NbdServer("shared", aiolos_argv(a.image, "io_uring", "io_uring", a.java_opt), "randread", 1, 1,
                       perf_events=events)
    private = NbdServer("private", aiolos_argv(a.image, "io_uring", "io_uring",
                                               a.java_opt + ["-Daiolos.io_uring.shared-ring=false"]),
                        "randread", 1, 1, perf_events=events)
    epoll = NbdServer("epoll", aiolos_argv(a.image, "io_uring", "epoll", a.java_opt), "randread", 1, 1,
                      perf_events=events)
    command = "bench/lib/nbd_ring.py " + " ".join(sys.argv[1:])
    table = rounds.Table("One io_uring ring against the engine's private ring (NBD, one connection), "
                         "alternating rounds", rounds.run_line(command, a.rounds, a.seconds))
    calls = rounds.MetricTable("System calls per request (perf, all the server's threads)")
    started = []
    try:
        start_all([shared, private, epoll], a.warmup, started)
        for cell, _, res in run_cells(started, a, qd_cells(a)):
            if shared in started and private in started:
                c = rounds.Comparison(cell, res, shared.name, private.name)
                v = table.add(c, 1.0, goal_text=">= 1.00x (not lower)")
                w = calls.add(cell, res, shared.name, private.name, SYSCALLS, goal=1.0)
                calls.add(cell, res, shared.name, private.name, ENTERS)
                print(f"   shared / private: IOPS {rounds.fmt_ratio(c.rate_ratios)} {v}; syscalls/request "
                      f"{w}", flush=True)
            if shared in started and epoll in started:
                table.add(rounds.Comparison(cell, res, shared.name, epoll.name), None, goal_text="(beside)")
                calls.add(cell, res, shared.name, epoll.name, SYSCALLS)
    finally:
        finish(table, started, a.out, "nbd-ring", calls.render())
        with open(os.path.join(a.out, "nbd-ring-syscalls.json"), "w") as f:
            json.dump(calls.raw, f, indent=1)


if __name__ == "__main__":
    main()
