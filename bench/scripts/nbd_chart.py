#!/usr/bin/env python3
"""Turns the CSV of bench/nbd.sh into a Markdown table (IOPS of every server, each cell's
median over its rounds, and Aiolos' best over the best peer) and an SVG chart of horizontal bars, one panel per workload. No
third-party packages.

usage: nbd_chart.py RESULT.csv OUT.svg  (prints the Markdown on stdout)
"""
import csv
import sys

WORKLOADS = [("randread", "1"), ("randread", "32"), ("randwrite", "1"), ("randwrite", "32")]
COLORS = {"aiolos": "#4e79a7", "qemu-nbd": "#f28e2b", "nbdkit": "#59a14f"}


def load(path):
    """(server, variant, rw, qd) -> (IOPS, latency us) of the cell, the median over rounds."""
    samples = {}
    order = []
    for r in csv.DictReader(open(path)):
        key = (r["server"], r["variant"])
        if key not in order:
            order.append(key)
        samples.setdefault(key + (r["rw"], r["qd"]), []).append((float(r["iops"]), float(r["lat_us"])))
    # Peers first, then Aiolos, phase by phase (the CSV's order rotates from cell to cell).
    rank = {"qemu-nbd": 0, "nbdkit": 1, "aiolos": 2}
    first = {k: i for i, k in enumerate(order)}
    order.sort(key=lambda k: (phase(k), rank.get(k[0], 3), first[k]))
    rows = {}
    for cell, vals in samples.items():
        vals.sort()
        rows[cell] = vals[len(vals) // 2]  # the median run by IOPS (rounds are odd in number)
    return order, rows


def phase(key):
    """Phase 2 (fd monitors on the best engine) marks its variants with " (2)"."""
    return 2 if key[1].endswith(" (2)") else 1


def best(order, rows, wl, pick):
    cands = [(rows[k + wl][0], k) for k in order if pick(k) and k + wl in rows]
    return max(cands) if cands else None


def ratio_row(order, rows, title, ph, peer):
    cells = []
    for wl in WORKLOADS:
        a = best(order, rows, wl, lambda k: k[0] == "aiolos" and phase(k) == ph)
        p = best(order, rows, wl, lambda k: peer(k) and phase(k) == ph)
        cells.append("**%.2f** (%s vs %s %s)" % (a[0] / p[0], a[1][1], p[1][0], p[1][1]) if a and p else "n/a")
    return "| %s | | %s |" % (title, " | ".join(cells))


def table(order, rows):
    head = "| server | variant | " + " | ".join("%s QD%s IOPS (mean latency)" % wl for wl in WORKLOADS) + " |"
    out = [head, "|---|---|" + "---:|" * len(WORKLOADS)]
    for k in order:
        cells = []
        for wl in WORKLOADS:
            v = rows.get(k + wl)
            cells.append("%.0f (%.0f us)" % (v[0], v[1]) if v else "n/a")
        out.append("| %s | %s | %s |" % (k[0], k[1], " | ".join(cells)))
    # Ratios only within a phase: the servers of a phase were measured side by side.
    for ph in sorted({phase(k) for k in order}):
        out.append(ratio_row(order, rows, "**phase %d: Aiolos best / qemu-nbd best**" % ph, ph,
                             lambda k: k[0] == "qemu-nbd"))
        if any(k[0] == "nbdkit" and phase(k) == ph for k in order):
            out.append(ratio_row(order, rows, "**phase %d: Aiolos best / best peer**" % ph, ph,
                                 lambda k: k[0] != "aiolos"))
    return "\n".join(out)


def panel(order, rows, wl, x0, y0, w):
    bar, gap, label_w = 16, 4, 190
    vals = [(k, rows[k + wl][0]) for k in order if k + wl in rows]
    top = max(v for _, v in vals) * 1.12 if vals else 1
    svg = ['<text x="%d" y="%d" font-size="14" font-weight="bold">4 KiB %s, QD%s (IOPS)</text>'
           % (x0, y0 - 8, wl[0], wl[1])]
    for i, (k, v) in enumerate(vals):
        y = y0 + i * (bar + gap)
        length = (w - label_w) * v / top
        svg.append('<text x="%d" y="%d" font-size="11" text-anchor="end">%s %s</text>'
                   % (x0 + label_w - 6, y + bar - 4, k[0], k[1]))
        svg.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>'
                   % (x0 + label_w, y, length, bar, COLORS.get(k[0], "#999")))
        svg.append('<text x="%.1f" y="%d" font-size="10">%.0f</text>' % (x0 + label_w + length + 3, y + bar - 4, v))
    return svg, len(vals) * (bar + gap)


def chart(order, rows, path):
    w, x_gap = 520, 30
    parts, heights = [], []
    for i, wl in enumerate(WORKLOADS):
        x0 = 10 + (i % 2) * (w + x_gap)
        y0 = 56 + (i // 2) * (len(order) * 20 + 50)
        svg, h = panel(order, rows, wl, x0, y0, w)
        parts += svg
        heights.append(y0 + h)
    total_w, total_h = 2 * w + x_gap + 20, max(heights) + 20
    head = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif">'
            % (total_w, total_h), '<rect width="100%" height="100%" fill="white"/>',
            '<text x="10" y="22" font-size="16" font-weight="bold">NBD servers, fio --ioengine=nbd'
            ' (higher is better)</text>',
            '<text x="560" y="22" font-size="11">rows marked (2): phase 2, run after phase 1; compare within'
            ' a phase</text>']
    open(path, "w").write("\n".join(head + parts + ["</svg>"]) + "\n")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    order, rows = load(sys.argv[1])
    print(table(order, rows))
    chart(order, rows, sys.argv[2])


if __name__ == "__main__":
    main()
