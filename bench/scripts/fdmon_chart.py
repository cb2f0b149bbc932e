#!/usr/bin/env python3
"""Turns a JMH JSON result of the fd-monitor benchmarks into a table (Markdown) and a
grouped bar chart (SVG, no third-party packages).

usage: fdmon_chart.py RESULT.json OUT.svg  (prints the Markdown table on stdout)
"""
import json
import sys

MONITORS = ["poll", "epoll", "io_uring"]
FDS = ["1", "64", "1024"]
COLORS = {"poll": "#4e79a7", "epoll": "#f28e2b", "io_uring": "#59a14f"}


def load(path):
    rows = {}
    for r in json.load(open(path)):
        name = r["benchmark"].rsplit(".", 2)[-2] + "." + r["benchmark"].rsplit(".", 1)[-1]
        p = r.get("params", {})
        m = r["primaryMetric"]
        alloc = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score")
        rows[(name, p.get("monitor"), p.get("fds"))] = (m["score"], m["scoreError"], m["scoreUnit"], alloc)
    return rows


def table(rows):
    out = ["| monitor | fds | dispatch rate (ops/ms) | alloc (B/op) | wake-up round trip (us) |",
           "|---|---:|---:|---:|---:|"]
    for mon in MONITORS:
        for fds in FDS:
            d = rows.get(("FdDispatchBenchmark.setAndDispatch", mon, fds))
            w = rows.get(("WakeUpLatencyBenchmark.roundTrip", mon, fds))
            if d is None or w is None:
                continue
            alloc = "%.2f" % d[3] if d[3] is not None else "n/a"
            out.append("| %s | %s | %.1f ± %.1f | %s | %.1f ± %.1f |" % (mon, fds, d[0], d[1], alloc, w[0], w[1]))
    out.append("")
    out.append("| swap with N fds | loop pause per swap (us) | poll without swap (us) |")
    out.append("|---:|---:|---:|")
    for fds in FDS:
        s = rows.get(("MonitorSwapBenchmark.swap", None, fds))
        p = rows.get(("MonitorSwapBenchmark.pollOnly", None, fds))
        if s and p:
            out.append("| %s | %.1f ± %.1f | %.2f ± %.2f |" % (fds, s[0], s[1], p[0], p[1]))
    return "\n".join(out)


def panel(rows, bench, title, unit, x0, y0, w, h):
    vals = {(m, f): rows[(bench, m, f)][0] for m in MONITORS for f in FDS if (bench, m, f) in rows}
    top = max(vals.values()) * 1.15 if vals else 1
    svg = ['<text x="%d" y="%d" font-size="15" font-weight="bold">%s</text>' % (x0, y0 - 12, title)]
    svg.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>' % (x0, y0 + h, x0 + w, y0 + h))
    svg.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>' % (x0, y0, x0, y0 + h))
    for i in range(5):
        v = top * i / 4
        y = y0 + h - h * i / 4
        svg.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (x0, y, x0 + w, y))
        svg.append('<text x="%d" y="%.1f" font-size="11" text-anchor="end">%.0f</text>' % (x0 - 4, y + 4, v))
    svg.append('<text x="%d" y="%d" font-size="11" transform="rotate(-90 %d %d)" text-anchor="middle">%s</text>'
               % (x0 - 42, y0 + h // 2, x0 - 42, y0 + h // 2, unit))
    group = w / len(FDS)
    bar = group / (len(MONITORS) + 1)
    for gi, f in enumerate(FDS):
        gx = x0 + gi * group + bar / 2
        svg.append('<text x="%.1f" y="%d" font-size="12" text-anchor="middle">%s fds</text>'
                   % (gx + bar * len(MONITORS) / 2, y0 + h + 16, f))
        for mi, m in enumerate(MONITORS):
            v = vals.get((m, f))
            if v is None:
                continue
            bh = h * v / top
            x = gx + mi * bar
            svg.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>'
                       % (x, y0 + h - bh, bar * 0.9, bh, COLORS[m]))
            svg.append('<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle">%.0f</text>'
                       % (x + bar * 0.45, y0 + h - bh - 3, v))
    return svg


def chart(rows, path):
    w, h = 900, 380
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>']
    svg += panel(rows, "FdDispatchBenchmark.setAndDispatch", "Dispatch rate (higher is better)", "ops/ms",
                 70, 50, 340, 260)
    svg += panel(rows, "WakeUpLatencyBenchmark.roundTrip", "Cross-thread wake-up (lower is better)", "us",
                 530, 50, 340, 260)
    for i, m in enumerate(MONITORS):
        svg.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (300 + i * 110, h - 26, COLORS[m]))
        svg.append('<text x="%d" y="%d" font-size="12">%s</text>' % (316 + i * 110, h - 16, m))
    svg.append("</svg>")
    open(path, "w").write("\n".join(svg) + "\n")


if __name__ == "__main__":
    data = load(sys.argv[1])
    print(table(data))
    chart(data, sys.argv[2])
