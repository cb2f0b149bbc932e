#!/usr/bin/env python3
"""Turns one bench/run.sh result directory into Markdown tables (summary.md) and SVG bar
charts with Aiolos beside each peer. Python 3 standard library only: the SVG is written
by hand.

usage: report.py RESULT_DIR [SVG_DIR]   (SVG_DIR defaults to RESULT_DIR)

Reads what is there: jmh-peers.json, jmh-rest.json (or jmh.json), c-before.json,
c-after.json, and the alternating-rounds tables (disk/, nbd/: *-rounds.md and .json).
Every ratio is taken within this one run.
"""
import glob
import html
import json
import os
import re
import sys

AIOLOS = "#4e79a7"
AIOLOS_POLLING = "#a0cbe8"
NETTY = "#f28e2b"
C_LIMIT = "#7f7f7f"
FIO = "#e15759"
LOOPS = ["aiolos-poll", "aiolos-epoll", "aiolos-io_uring",
         "aiolos-poll+polling", "aiolos-epoll+polling", "aiolos-io_uring+polling",
         "netty-epoll", "netty-io_uring"]


def color_of(loop):
    if loop.startswith("netty"):
        return NETTY
    return AIOLOS_POLLING if loop.endswith("+polling") else AIOLOS


# ---------------------------------------------------------------- reading

def read_jmh(d):
    rows = []
    for p in sorted(glob.glob(os.path.join(d, "jmh-wake-*.json"))) + [
            os.path.join(d, f) for f in ("jmh-peers.json", "jmh-rest.json", "jmh.json")]:
        if os.path.exists(p) and os.path.getsize(p) > 0:
            rows.extend(json.load(open(p)))
    out = []
    for r in rows:
        sec = r.get("secondaryMetrics", {})

        def s(name):
            m = sec.get(name) or sec.get("\u00b7" + name)
            return None if m is None else m["score"]
        cls, method = r["benchmark"].rsplit(".", 2)[-2:]
        iters = len(r["primaryMetric"].get("rawData", [[]])[0]) * len(r["primaryMetric"].get("rawData", [[]]))
        row = {
            "class": cls, "method": method, "params": r.get("params", {}),
            "score": r["primaryMetric"]["score"], "error": r["primaryMetric"]["scoreError"],
            "unit": r["primaryMetric"]["scoreUnit"], "jvm_b_op": s("gc.alloc.rate.norm"),
        }
        # Aux counters are per-iteration values that JMH sums (SUM policy) or averages
        # across forks; the ratios below are unaffected either way.
        ops, loop_bytes = s("ops"), s("loopBytes")
        row["loop_b_op"] = None if not ops else (loop_bytes or 0.0) / ops
        fired, late = s("fired"), s("lateNs")
        row["late_ns"] = None if not fired else (late or 0.0) / fired
        row["iterations"] = iters
        out.append(row)
    return out


def read_c(d):
    """{name: ns}: 'before', 'after' and one per loop (the run right before that loop's JMH run)."""
    vals = {}
    for p in sorted(glob.glob(os.path.join(d, "c-*.json"))):
        vals[os.path.basename(p)[2:-5]] = json.load(open(p))["eventfd_pingpong_ns"]
    return vals


def read_rounds(d):
    """The alternating-rounds tables of the run (bench/lib/*_rounds.py): [(markdown, json)]."""
    out = []
    for md in sorted(glob.glob(os.path.join(d, "**", "*-rounds.md"), recursive=True)):
        js = md[:-3] + ".json"
        out.append((open(md).read(), json.load(open(js)) if os.path.exists(js) else None))
    return out


# ---------------------------------------------------------------- SVG

def bar_chart(path, title, unit, groups, note=""):
    """groups: [(group label, [(bar label, value, color)])]; horizontal bars."""
    bar_h, gap, left, right, top = 18, 10, 250, 120, 48
    n_bars = sum(len(b) for _, b in groups)
    height = top + n_bars * bar_h + len(groups) * (gap + 16) + 40
    width = 900
    vmax = max([v for _, bars in groups for _, v, _ in bars if v is not None] + [1e-9])
    scale = (width - left - right) / vmax
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">'
           % (width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="20" font-size="15" font-weight="bold">%s</text>' % html.escape(title),
           '<text x="10" y="38" fill="#555">%s</text>' % html.escape(note)]
    y = top
    for glabel, bars in groups:
        if glabel:
            out.append('<text x="10" y="%d" font-weight="bold">%s</text>' % (y + 12, html.escape(glabel)))
            y += 16
        for label, v, color in bars:
            out.append('<text x="%d" y="%d" text-anchor="end">%s</text>' % (left - 6, y + 13, html.escape(label)))
            if v is not None:
                w = max(1.0, v * scale)
                out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>' % (left, y + 2, w, bar_h - 4, color))
                out.append('<text x="%.1f" y="%d">%s %s</text>' % (left + w + 4, y + 13, fmt(v), html.escape(unit)))
            else:
                out.append('<text x="%d" y="%d" fill="#999">not measured</text>' % (left + 4, y + 13))
            y += bar_h
        y += gap
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>' % (left, top, left, y))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def fmt(v):
    if v is None:
        return "—"
    if abs(v) >= 100:
        return "{:,.0f}".format(v)
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.2f" % v


def b_op(v):
    return "—" if v is None else ("%.1f" % v if v >= 0.05 else "0")


# ---------------------------------------------------------------- report

def pick(rows, cls, **params):
    for r in rows:
        if r["class"] == cls and all(r["params"].get(k) == v for k, v in params.items()):
            return r
    return None


def main():
    d = sys.argv[1]
    svg_dir = sys.argv[2] if len(sys.argv) > 2 else d
    os.makedirs(svg_dir, exist_ok=True)
    rows, c, tables = read_jmh(d), read_c(d), read_rounds(d)
    md = []
    machine = os.path.join(d, "machine.txt")
    if os.path.exists(machine):
        md += ["```", open(machine).read().rstrip(), "```", ""]
    c_mean = sum(v for k, v in c.items() if k in ("before", "after")) / len(
        [k for k in c if k in ("before", "after")]) if ("before" in c or "after" in c) else None

    def c_for(loop):
        """The C limit measured right before this loop's run, else the run's mean."""
        return c.get(loop, c_mean)

    # Cross-thread wake, with the C limit and Netty epoll as yardsticks.
    wake = [(l, pick(rows, "CrossThreadWakeBenchmark", loop=l)) for l in LOOPS]
    wake = [(l, r) for l, r in wake if r]
    if wake:
        netty = dict(wake).get("netty-epoll")
        md += ["### A task submitted from another thread into a sleeping loop, and back",
               "",
               "C limit of this run: %s ns at the start, %s ns after the peers; each row's own C"
               " run right before it is in the table." % (fmt(c.get("before")), fmt(c.get("after"))),
               "",
               "The last ratio divides each side by its own C run first, which takes the machine's"
               " state at the time out of the comparison.",
               "",
               "| loop | round trip (µs) | C limit just before (µs) | × C limit | × Netty epoll | × Netty epoll, each ÷ its C | loop thread B/op | JVM B/op |",
               "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for l, r in wake:
            cl = c_for(l)
            cn = c_for("netty-epoll")
            md.append("| %s | %s ± %s | %s | %s | %s | %s | %s | %s |" % (
                l, fmt(r["score"] / 1000), fmt(r["error"] / 1000), fmt(cl / 1000) if cl else "—",
                fmt(r["score"] / cl) if cl else "—",
                fmt(r["score"] / netty["score"]) if netty else "—",
                fmt((r["score"] / cl) / (netty["score"] / cn)) if netty and cl and cn else "—",
                b_op(r["loop_b_op"]), b_op(r["jvm_b_op"])))
        md.append("")
        groups = [(l, [("round trip", r["score"] / 1000, color_of(l)),
                       ("C ping-pong just before", c_for(l) / 1000 if c_for(l) else None, C_LIMIT)])
                  for l, r in wake]
        bar_chart(os.path.join(svg_dir, "bench-wake.svg"),
                  "Cross-thread task round trip into a sleeping loop (lower is better)", "µs", groups,
                  "Aiolos BH schedule vs Netty execute(); +polling = Aiolos adaptive polling 32 µs; grey = C limit")

    fd = [(l, pick(rows, "FdReadinessBenchmark", loop=l)) for l in LOOPS]
    fd = [(l, r) for l, r in fd if r]
    if fd:
        by = dict(fd)
        md += ["### Fd readiness dispatch: one byte on a loopback TCP socket, handler answers", "",
               "| loop | round trip (µs) | × Netty epoll | × Netty io_uring | loop thread B/op | JVM B/op |",
               "|---|---:|---:|---:|---:|---:|"]
        for l, r in fd:
            ne, nu = by.get("netty-epoll"), by.get("netty-io_uring")
            md.append("| %s | %s ± %s | %s | %s | %s | %s |" % (
                l, fmt(r["score"] / 1000), fmt(r["error"] / 1000),
                fmt(r["score"] / ne["score"]) if ne else "—", fmt(r["score"] / nu["score"]) if nu else "—",
                b_op(r["loop_b_op"]), b_op(r["jvm_b_op"])))
        md.append("")
        bar_chart(os.path.join(svg_dir, "bench-fd.svg"),
                  "Fd readiness dispatch round trip (lower is better)", "µs",
                  [("", [(l, r["score"] / 1000, color_of(l)) for l, r in fd])],
                  "write 1 byte to a loopback TCP socket; the loop's read handler answers through an eventfd")

    timers = [r for r in rows if r["class"] == "TimerFiringBenchmark"]
    if timers:
        md += ["### A scheduled task firing: timer armed from another thread", "",
               "| delay | loop | cycle (µs) | mean lateness (µs) | lateness × Netty epoll | loop thread B/op | JVM B/op |",
               "|---:|---|---:|---:|---:|---:|---:|"]
        groups = []
        for delay in sorted({r["params"]["delayNs"] for r in timers}, key=int):
            netty = pick(rows, "TimerFiringBenchmark", loop="netty-epoll", delayNs=delay)
            bars = []
            for l in LOOPS:
                r = pick(rows, "TimerFiringBenchmark", loop=l, delayNs=delay)
                if not r:
                    continue
                md.append("| %s µs | %s | %s | %s | %s | %s | %s |" % (
                    fmt(int(delay) / 1000), l, fmt(r["score"] / 1000), fmt(r["late_ns"] / 1000),
                    fmt(r["late_ns"] / netty["late_ns"]) if netty and netty["late_ns"] else "—",
                    b_op(r["loop_b_op"]), b_op(r["jvm_b_op"])))
                bars.append((l, r["late_ns"] / 1000, color_of(l)))
            groups.append(("%s µs timer" % fmt(int(delay) / 1000), bars))
        md.append("")
        bar_chart(os.path.join(svg_dir, "bench-timer.svg"),
                  "Timer firing lateness, mean (lower is better)", "µs", groups,
                  "deadline to callback start; Aiolos AioTimer.modNs vs Netty EventLoop.schedule, armed from another thread")

    for text, raw in tables:
        md += ["#" + text, ""]
        if raw and raw["title"].startswith("Disk"):
            groups = []
            for c in raw["comparisons"]:
                r = c["rate_ratio"]
                if not r:
                    continue
                groups.append(("%s (%.2f× [%.2f-%.2f])" % (c["cell"], r["median"], r["min"], r["max"]),
                               [(c["a"], c["a_rate"]["median"] / 1000, AIOLOS),
                                (c["b"], c["b_rate"]["median"] / 1000, FIO)]))
            bar_chart(os.path.join(svg_dir, "bench-disk.svg"),
                      "Disk engines vs fio, 4 KiB random O_DIRECT (higher is better)", "k IOPS", groups,
                      "medians of alternating rounds; the label gives the median per-round ratio [min-max]")

    shown = {"CrossThreadWakeBenchmark", "FdReadinessBenchmark", "TimerFiringBenchmark"}
    rest = [r for r in rows if r["class"] not in shown]
    if rest:
        md += ["### Every other JMH benchmark of the run", "",
               "| benchmark | params | score | unit | JVM B/op | loop thread B/op |", "|---|---|---:|---|---:|---:|"]
        for r in rest:
            params = ", ".join("%s=%s" % kv for kv in sorted(r["params"].items()))
            md.append("| %s.%s | %s | %s ± %s | %s | %s | %s |" % (
                r["class"], r["method"], params, fmt(r["score"]), fmt(r["error"]), r["unit"],
                b_op(r["jvm_b_op"]), b_op(r["loop_b_op"])))
        md.append("")
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    print("charts: " + " ".join(sorted(glob.glob(os.path.join(svg_dir, "bench-*.svg")))), file=sys.stderr)


if __name__ == "__main__":
    main()
