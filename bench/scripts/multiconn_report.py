#!/usr/bin/env python3
"""Tables for bench/nbd-multiconn.sh: per cell (rw, connections), each server's median IOPS
and median server CPU per request over the alternating rounds, and the median (min-max)
of the per-round ratios that the goals are about: 2 IOThreads over 1, and Aiolos' better
of the two over qemu-nbd and over nbdkit."""
import csv
import statistics
import sys
from collections import defaultdict

rows = list(csv.DictReader(open(sys.argv[1])))
# (rw, conns) -> server -> round -> (iops, cpu_us)
cells = defaultdict(lambda: defaultdict(dict))
for r in rows:
    cells[(r["rw"], int(r["conns"]))][r["server"]][int(r["round"])] = (float(r["iops"]), float(r["cpu_us_per_req"]))


def ratio(cell, a, b, k=0):
    """Median, min, max of per-round a/b (k=0: IOPS, k=1: CPU per request)."""
    if callable(a):
        rounds = set(cell.get(b, {}))
        pairs = [(a(cell, n), cell[b][n][k]) for n in rounds]
        pairs = [(x, y) for x, y in pairs if x is not None]
    else:
        rounds = set(cell.get(a, {})) & set(cell.get(b, {}))
        pairs = [(cell[a][n][k], cell[b][n][k]) for n in rounds]
    vals = sorted(x / y for x, y in pairs if y > 0)
    if not vals:
        return "-"
    return "%.2fx (%.2f-%.2f)" % (statistics.median(vals), vals[0], vals[-1])


def best_aiolos(k):
    def f(cell, n):
        v = [cell[s][n][k] for s in ("aiolos-1", "aiolos-2") if n in cell.get(s, {})]
        if not v:
            return None
        return max(v) if k == 0 else min(v)
    return f


servers = ["aiolos-1", "aiolos-2", "qemu-nbd", "nbdkit"]
print("\n## IOPS (median of the rounds) and server CPU per request (us, median)\n")
print("| rw | conns | " + " | ".join(servers) + " |")
print("|---|---|" + "---|" * len(servers))
for (rw, conns), cell in sorted(cells.items()):
    cols = []
    for s in servers:
        if s in cell:
            iops = statistics.median(v[0] for v in cell[s].values())
            cpu = statistics.median(v[1] for v in cell[s].values())
            cols.append("%.0f / %.1f us" % (iops, cpu))
        else:
            cols.append("-")
    print("| %s | %d | %s |" % (rw, conns, " | ".join(cols)))
print("\n## Per-round ratios, median (min-max)\n")
print("| rw | conns | 2 IOThreads / 1 IOPS | best Aiolos / qemu-nbd IOPS | best Aiolos / nbdkit IOPS"
      " | CPU/req aiolos-2 / qemu-nbd | CPU/req aiolos-1 / qemu-nbd |")
print("|---|---|---|---|---|---|---|")
for (rw, conns), cell in sorted(cells.items()):
    print("| %s | %d | %s | %s | %s | %s | %s |" % (
        rw, conns, ratio(cell, "aiolos-2", "aiolos-1"), ratio(cell, best_aiolos(0), "qemu-nbd"),
        ratio(cell, best_aiolos(0), "nbdkit"), ratio(cell, "aiolos-2", "qemu-nbd", 1),
        ratio(cell, "aiolos-1", "qemu-nbd", 1)))
