#!/usr/bin/env python3
"""One export, several client connections (NBD multi-conn), served by 1 and by 2 Aiolos
IOThreads beside qemu-nbd and nbdkit given the same connections, in alternating rounds
(the method: rounds.py).

    aiolos io_uring x1   NbdMain --direct --engine io_uring --iothreads 1
    aiolos io_uring x2   NbdMain --direct --engine io_uring --iothreads 2 (connections
                         least-loaded over the two)
    qemu-nbd io_uring    qemu-nbd -f raw --cache=none --aio=io_uring --shared=8 (one loop)
    nbdkit file          nbdkit file cache=none (its own threads; no O_DIRECT mode)

Cells: 4 KiB randread and randwrite with 1, 2 and 4 connections (fio --ioengine=nbd
--numjobs=N, one connection per job), QD32 in total (iodepth 32/N per connection).
Goals: 2 IOThreads at least 1.3x one IOThread at 2 and more connections (issue 17), and
Aiolos at or ahead of the best peer of the same round; the server's CPU per request
beside each.

    nbd_multiconn.py --image F [--seconds 1] [--rounds 7] [--conns 1,2,4]
                     [--rw randread,randwrite] [--qd 32] [--out DIR]

Writes DIR/nbd-multiconn.md and DIR/nbd-multiconn.json.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rounds  # noqa: E402
from nbd_rounds import NbdServer, aiolos_argv, best_of, common_args, finish, nbdkit_argv, qemu_argv, \
    run_cells, start_all  # noqa: E402

GOAL_TWO_IOTHREADS = 1.3


def main():
    ap = argparse.ArgumentParser()
    common_args(ap, "nbd-multiconn")
    ap.add_argument("--conns", default="1,2,4")
    ap.add_argument("--qd", type=int, default=32, help="queue depth over all connections")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    one = NbdServer("aiolos io_uring x1", aiolos_argv(a.image, "io_uring", None, a.java_opt, iothreads=1),
                    "randread", a.qd, 1)
    two = NbdServer("aiolos io_uring x2", aiolos_argv(a.image, "io_uring", None, a.java_opt, iothreads=2),
                    "randread", a.qd, 1)
    peers = [NbdServer("qemu-nbd io_uring", qemu_argv(a.image, "io_uring"), "randread", a.qd, 1),
             NbdServer("nbdkit file", nbdkit_argv(a.image), "randread", a.qd, 1)]
    command = "bench/lib/nbd_multiconn.py " + " ".join(sys.argv[1:])
    table = rounds.Table(f"One export, 1-{a.conns.split(',')[-1]} connections, QD{a.qd} in total, "
                         "alternating rounds", rounds.run_line(command, a.rounds, a.seconds))
    started = []
    try:
        start_all([one, two] + peers, a.warmup, started, jobs=2)
        live_peers = [p.name for p in peers if p in started]
        cells = [(f"{rw} x{conns} conn", rw, max(1, a.qd // conns), conns)
                 for rw in a.rw.split(",") for conns in (int(c) for c in a.conns.split(","))]
        for cell, conns, res in run_cells(started, a, cells):
            if one in started and two in started:
                c = rounds.Comparison(cell, res, two.name, one.name)
                goal = GOAL_TWO_IOTHREADS if conns >= 2 else None
                v = table.add(c, goal, goal_text=None if goal else "(1 connection: one IOThread serves it)")
                print(f"   x2 / x1: {rounds.fmt_ratio(c.rate_ratios)} {v}", flush=True)
            if live_peers:
                res["best peer"] = best_of(res, live_peers)
            for o in (x for x in (one, two) if x in started):
                if live_peers:
                    table.add(rounds.Comparison(cell, res, o.name, "best peer"), 1.0)
                for p in (x for x in peers if x in started):
                    table.add(rounds.Comparison(cell, res, o.name, p.name), None, goal_text="(beside)")
    finally:
        finish(table, started, a.out, "nbd-multiconn")


if __name__ == "__main__":
    main()
