#!/usr/bin/env python3
"""Tables for bench/nbd-ring.sh: per cell, each server's median IOPS and, per request,
system calls, io_uring_enter calls and server CPU time; then the per-round ratios
shared / private (median, min-max), the figures the shared-ring goal is judged by."""
import csv
import statistics
import sys
from collections import defaultdict

rows = list(csv.DictReader(open(sys.argv[1])))
cells = defaultdict(lambda: defaultdict(dict))
for r in rows:
    ios = max(int(r["ios"]), 1)
    cells[(r["rw"], int(r["qd"]))][r["server"]][int(r["round"])] = {
        "iops": float(r["iops"]),
        "sys": int(r["syscalls"]) / ios,
        "enter": int(r["io_uring_enter"]) / ios,
        "cpu": 1e6 * float(r["cpu_s"]) / ios,
    }
servers = [s for s in ("shared", "private", "epoll") if any(s in c for c in cells.values())]
print("\n## Per request (medians of the rounds): IOPS / system calls / io_uring_enter / CPU us\n")
print("| rw | QD | " + " | ".join(servers) + " |")
print("|---|---|" + "---|" * len(servers))
for (rw, qd), cell in sorted(cells.items()):
    cols = []
    for s in servers:
        v = cell.get(s, {}).values()
        if not v:
            cols.append("-")
            continue
        m = lambda k: statistics.median(x[k] for x in v)
        cols.append("%.0f / %.2f / %.2f / %.1f" % (m("iops"), m("sys"), m("enter"), m("cpu")))
    print("| %s | %d | %s |" % (rw, qd, " | ".join(cols)))


def ratio(cell, k):
    a, b = cell.get("shared", {}), cell.get("private", {})
    vals = sorted(a[n][k] / b[n][k] for n in set(a) & set(b) if b[n][k] > 0)
    if not vals:
        return "-"
    return "%.2fx (%.2f-%.2f)" % (statistics.median(vals), vals[0], vals[-1])


print("\n## shared / private, per-round ratios: median (min-max)\n")
print("| rw | QD | IOPS | system calls per request | io_uring_enter per request | CPU per request |")
print("|---|---|---|---|---|---|")
for (rw, qd), cell in sorted(cells.items()):
    print("| %s | %d | %s | %s | %s | %s |" % (rw, qd, ratio(cell, "iops"), ratio(cell, "sys"), ratio(cell, "enter"),
                                             ratio(cell, "cpu")))
