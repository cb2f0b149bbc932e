"""Alternating rounds: the project's way of comparing two or more contenders on a noisy,
shared machine.

One run of A and then one run of B cannot tell a gap from the machine's mood: on the 2-core
VM the disk and the wake-up cost move by 2-8x within minutes. Here the contenders take turns
in short rounds (round 1: A B C, round 2: B C A, ...: each round starts with the next one, so
none always goes first), every round gives each contender the same fixed time, and what is
reported for a pair is the ratio *within each round* (A's rate over B's rate in the same
round), then the median of those ratios with their min-max spread and a bootstrap 95 %
interval of the median. A slow minute slows both sides of a round and cancels in its ratio.

Beside the rate, each round records the CPU time the contender's process used (user + system
from /proc/PID/stat for a long-lived server, or the child's rusage for a process per round)
and reports it per operation: it moves far less than wall time.

A goal "A/B >= g" is judged from the per-round ratios:
  met         every round's ratio is >= g (the whole min-max spread is at or above g)
  missed      every round's ratio is < g
  cannot tell the spread covers g
That is stricter than the interval of the median on purpose: a claim holds only when no round
contradicts it.

Used by bench/lib/disk_rounds.py, bench/lib/nbd_rounds.py and bench/lib/wake_rounds.py, which
the bench/*.sh scripts drive; the module has no dependency beyond the Python standard library.
"""

import json
import os
import random
import statistics
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid):
    """user + system CPU seconds of process pid, all its threads (fields 14 and 15 of
    /proc/PID/stat, counted after the parenthesised command name, which may hold spaces)."""
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Sample:
    """One contender's result in one round: operations done, the seconds they took, the
    CPU seconds its process used meanwhile, and any further counts (extra: {name: count},
    e.g. system calls counted by perf)."""

    __slots__ = ("ops", "secs", "cpu", "extra")

    def __init__(self, ops, secs, cpu, extra=None):
        self.ops = ops
        self.secs = secs
        self.cpu = cpu
        self.extra = extra or {}

    def per_op(self, name):
        """extra[name] per operation (nan when not counted)."""
        return self.extra[name] / self.ops if self.ops > 0 and name in self.extra else float("nan")

    @property
    def rate(self):
        return self.ops / self.secs if self.secs > 0 else 0.0

    @property
    def cpu_us_per_op(self):
        return 1e6 * self.cpu / self.ops if self.ops > 0 else float("nan")


class Contender:
    """Something that can run one round: subclasses implement round(seconds) -> Sample,
    and may implement start() / stop() for a long-lived process."""

    name = "?"
    #: whether the warm-up round applies (a warm JVM's JIT; not a process per round)
    needs_warmup = True

    def start(self):
        pass

    def round(self, seconds):
        raise NotImplementedError

    def stop(self):
        pass


def alternate(contenders, rounds, seconds, warmup_seconds=0.0, log=print):
    """Runs every contender once per round, the starting contender rotating each round;
    an unmeasured warm-up round first when warmup_seconds > 0. Returns
    {name: [Sample per round]} with None for a round that failed."""
    results = {c.name: [] for c in contenders}
    n = len(contenders)
    if warmup_seconds > 0:
        for c in (c for c in contenders if c.needs_warmup):
            try:
                c.round(warmup_seconds)
            except Exception as e:  # reported with the measured rounds below
                log(f"  warm-up {c.name}: {e}")
    for r in range(rounds):
        for j in range(n):
            c = contenders[(r + j) % n]
            try:
                s = c.round(seconds)
            except Exception as e:
                log(f"  round {r + 1} {c.name}: failed: {e}")
                s = None
            results[c.name].append(s)
            if s is not None:
                log(f"  round {r + 1:2d} {c.name:28s} {s.rate:12.0f} ops/s  {s.cpu_us_per_op:8.2f} us CPU/op")
    return results


def bootstrap_median_interval(values, iterations=2000, seed=17):
    """95 % percentile-bootstrap interval of the median (a fixed seed: the same data give
    the same interval)."""
    if len(values) < 2:
        return (values[0], values[0]) if values else (float("nan"), float("nan"))
    rnd = random.Random(seed)
    meds = sorted(statistics.median(rnd.choices(values, k=len(values))) for _ in range(iterations))
    return meds[int(0.025 * iterations)], meds[int(0.975 * iterations) - 1]


def ratios(results, a, b, key=lambda s: s.rate):
    """Per-round key(a) / key(b), rounds where either failed left out."""
    out = []
    for sa, sb in zip(results[a], results[b]):
        if sa is not None and sb is not None and key(sb) > 0:
            out.append(key(sa) / key(sb))
    return out


def quotient(results, a, b):
    """Per round, a's sample over b's as a pseudo-sample: its rate is a's rate over b's and
    its CPU per operation a's over b's (e.g. a server with TLS over itself without: the
    share of its plaintext rate TLS leaves). Two quotients compare like contenders."""
    out = []
    for sa, sb in zip(results[a], results[b]):
        if sa is None or sb is None or sb.rate <= 0 or not sb.cpu_us_per_op > 0:
            out.append(None)
            continue
        ops = sa.rate / sb.rate
        out.append(Sample(ops, 1.0, ops * 1e-6 * sa.cpu_us_per_op / sb.cpu_us_per_op))
    return out


class Comparison:
    """A over B in one cell: the per-round ratios of rate and of CPU per operation."""

    def __init__(self, cell, results, a, b):
        self.cell = cell
        self.a = a
        self.b = b
        self.rate_ratios = ratios(results, a, b)
        self.cpu_ratios = ratios(results, a, b, key=lambda s: s.cpu_us_per_op)
        self.a_rates = [s.rate for s in results[a] if s is not None]
        self.b_rates = [s.rate for s in results[b] if s is not None]
        self.a_cpu = [s.cpu_us_per_op for s in results[a] if s is not None]
        self.b_cpu = [s.cpu_us_per_op for s in results[b] if s is not None]

    @staticmethod
    def _summary(values):
        if not values:
            return None
        lo, hi = bootstrap_median_interval(values)
        return {"median": statistics.median(values), "min": min(values), "max": max(values),
                "ci95": [lo, hi], "n": len(values)}

    def verdict(self, goal, higher_is_better=True, values=None):
        """'met', 'missed' or 'cannot tell' for the goal ratio >= goal (or <= goal when
        higher_is_better is False, e.g. CPU per operation)."""
        v = self.rate_ratios if values is None else values
        if not v:
            return "cannot tell"
        if higher_is_better:
            if min(v) >= goal:
                return "met"
            if max(v) < goal:
                return "missed"
        else:
            if max(v) <= goal:
                return "met"
            if min(v) > goal:
                return "missed"
        return "cannot tell"

    def as_dict(self):
        return {"cell": self.cell, "a": self.a, "b": self.b,
                "rate_ratio": self._summary(self.rate_ratios),
                "cpu_per_op_ratio": self._summary(self.cpu_ratios),
                "a_rate": self._summary(self.a_rates), "b_rate": self._summary(self.b_rates),
                "a_cpu_us_per_op": self._summary(self.a_cpu), "b_cpu_us_per_op": self._summary(self.b_cpu),
                "rate_ratios": self.rate_ratios, "cpu_ratios": self.cpu_ratios}


def fmt_ratio(values):
    if not values:
        return "n/a"
    return f"{statistics.median(values):.2f}x [{min(values):.2f}-{max(values):.2f}]"


def fmt_median(values, digits=0):
    if not values:
        return "n/a"
    return f"{statistics.median(values):.{digits}f}"


class Table:
    """Markdown table of comparisons with goal verdicts, and the raw rounds as JSON."""

    HEADER = ("| cell | A | B | A rate (median) | B rate (median) | A/B rate, median [min-max] "
              "| A/B 95% CI | CPU/op A, us | CPU/op B, us | A/B CPU/op [min-max] | goal | verdict |")

    def __init__(self, title, run_line):
        self.title = title
        self.run_line = run_line
        self.rows = []
        self.raw = []
        self.notes = []

    def add(self, comparison, goal, goal_text=None, cpu_goal=None, rate_digits=0):
        """One row; goal is for A/B rate (>=), cpu_goal, when given, for A/B CPU per
        operation (<=); rate_digits for rates that are themselves ratios (a quotient's).
        Returns the verdict text."""
        c = comparison
        verdict = c.verdict(goal) if goal is not None else "(no goal)"
        if goal is None:
            goal_text = goal_text or "-"
        if cpu_goal is not None:
            verdict = f"rate {verdict}; CPU/op {c.verdict(cpu_goal, False, c.cpu_ratios)}"
            goal_text = (goal_text or f">= {goal:.2f}x") + f", CPU/op <= {cpu_goal:.2f}x"
        ci = bootstrap_median_interval(c.rate_ratios) if c.rate_ratios else (float("nan"),) * 2
        self.rows.append(
            f"| {c.cell} | {c.a} | {c.b} | {fmt_median(c.a_rates, rate_digits)} | {fmt_median(c.b_rates, rate_digits)} "
            f"| {fmt_ratio(c.rate_ratios)} | {ci[0]:.2f}-{ci[1]:.2f} | {fmt_median(c.a_cpu, 2)} "
            f"| {fmt_median(c.b_cpu, 2)} | {fmt_ratio(c.cpu_ratios)} | {goal_text or f'>= {goal:.2f}x'} | {verdict} |")
        d = c.as_dict()
        d["goal"] = goal
        d["verdict"] = verdict
        self.raw.append(d)
        return verdict

    def render(self):
        lines = [f"## {self.title}", "", self.run_line, "", self.HEADER,
                 "|" + "---|" * (self.HEADER.count("|") - 1)]
        lines += self.rows
        counts = {}
        for d in self.raw:
            counts[d["verdict"]] = counts.get(d["verdict"], 0) + 1
        lines += ["", "Verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))]
        if self.notes:
            lines += [""] + self.notes
        return "\n".join(lines) + "\n"

    def write(self, md_path, json_path):
        with open(md_path, "w") as f:
            f.write(self.render())
        with open(json_path, "w") as f:
            json.dump({"title": self.title, "run": self.run_line, "comparisons": self.raw, "notes": self.notes},
                      f, indent=1)


class MetricTable:
    """Per-operation counts (Sample.extra, e.g. system calls per request) of A over B, per
    round, with a goal "A/B <= g" (fewer is better): rendered after a Table."""

    HEADER = ("| cell | A | B | per op | A (median) | B (median) | A/B, median [min-max] | A/B 95% CI "
              "| goal | verdict |")

    def __init__(self, title):
        self.title = title
        self.rows = []
        self.raw = []

    def add(self, cell, results, a, b, name, goal=None):
        ra = [s.per_op(name) for s in results[a] if s is not None]
        rb = [s.per_op(name) for s in results[b] if s is not None]
        rr = ratios(results, a, b, key=lambda s: s.per_op(name))
        c = Comparison(cell, results, a, b)
        verdict = c.verdict(goal, False, rr) if goal is not None else "(no goal)"
        ci = bootstrap_median_interval(rr) if rr else (float("nan"),) * 2
        self.rows.append(f"| {cell} | {a} | {b} | {name} | {fmt_median(ra, 2)} | {fmt_median(rb, 2)} "
                         f"| {fmt_ratio(rr)} | {ci[0]:.2f}-{ci[1]:.2f} "
                         f"| {'-' if goal is None else f'<= {goal:.2f}x'} | {verdict} |")
        self.raw.append({"cell": cell, "a": a, "b": b, "metric": name, "a_per_op": ra, "b_per_op": rb,
                         "ratios": rr, "goal": goal, "verdict": verdict})
        return verdict

    def render(self):
        lines = [f"## {self.title}", "", self.HEADER, "|" + "---|" * (self.HEADER.count("|") - 1)] + self.rows
        return "\n".join(lines) + "\n"


def run_line(command, rounds, seconds):
    return (f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: `{command}`, "
            f"{rounds} alternating rounds of {seconds:g} s per contender, load before {loadavg()}, "
            f"{os.cpu_count()} CPUs")
