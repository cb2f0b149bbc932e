#!/usr/bin/env python3
"""Where one NBD request's time goes, server by server, from the kernel's system-call
tracepoints: no server is instrumented, so every server is cut the same way.

Aiolos (io_uring engine, O_DIRECT), qemu-nbd (--aio=io_uring, --cache=none) and nbdkit's
file plugin (through the page cache), each plain and with TLS required. Each server in turn
(alternating rounds, the first rotating) gets a fio --ioengine=nbd job
at QD1; a second into it, `perf record` takes raw_syscalls:sys_enter/sys_exit and
sched:sched_switch of the server's and fio's threads for --trace seconds. Every request
the client makes is then cut at five instants:

    send     the client's first send(2)/sendmsg(2) of the request
    in       the server's read that completes it (bytes read on the connection reach
             everything the client sent before its next request)
    submit   the server's first disk submission after `in` (io_uring_enter with
             to_submit > 0, io_submit, or a pread/pwrite family call in any thread)
    reply    the server's first write of the reply (its enter: the client, on the other
             CPU, may have the reply before the server's write(2) returns)
    recv     the client's last read before its next request

and the phases between them: request (send -> in: the client's sends, the wake-up, the
reads; over TLS the client may send a request as several records), server (in -> submit),
disk (submit -> reply: the device and the completion), reply (reply -> recv) and client
(recv -> the next send: fio and its TLS library). Per request also: how often the server's
threads went to sleep, and whether client and server ran on one CPU throughout.

A round's figure for a phase is its median over the round's requests; the table gives the
median of those across rounds with their min-max, per server, and for a server with a TLS
twin the phase's TLS addition (twin minus plain) round by round. Tracing slows every
system call, so absolute times are inflated; the servers pay it alike per system call
(they do not make equally many: the count per request is listed).

    nbd_trace.py --image F --tls CREDS --tls-home HOME [--rw randwrite] [--rounds 5]
                 [--seconds 4] [--trace 1] [--nbdkit yes|no] [--cache none|writeback] [--out DIR]

--cache writeback serves every server through the page cache (as nbd_rounds.py does).

Needs perf with tracepoint access (root). Writes DIR/nbd-trace.md and DIR/nbd-trace.json.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rounds  # noqa: E402
from disk_rounds import ROOT  # noqa: E402
from nbd_rounds import NbdServer, aiolos_argv, nbdkit_argv, qemu_argv, start_all  # noqa: E402

# x86_64 system call numbers (asm/unistd_64.h).
SOCK_READ = {0, 19, 45, 47}          # read, readv, recvfrom, recvmsg
SOCK_WRITE = {1, 20, 44, 46}         # write, writev, sendto, sendmsg
DISK_SUBMIT = {209, 17, 18, 295, 296, 327, 328}  # io_submit, pread64, pwrite64, preadv, pwritev, preadv2, pwritev2
IO_URING_ENTER = 426
PHASES = ("request", "server", "disk", "reply", "client", "total")

LINE = re.compile(r"^\s*(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s+(.*)$")


def connection_fds(pid, server_port):
    """fds of process pid that are TCP connections to or from server_port (established)."""
    inodes = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            col = line.split()
            local, remote, state, inode = col[1], col[2], col[3], col[9]
            if state == "01" and server_port in (int(local.split(":")[1], 16), int(remote.split(":")[1], 16)):
                inodes.add(inode)
    fds = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            fds.add(int(fd))
    return fds


def tids(pid):
    return {int(t) for t in os.listdir(f"/proc/{pid}/task")}


def fio_job_pids(fio_pid):
    """fio runs each job in a child process: those, or fio itself when there is none."""
    r = subprocess.run(["pgrep", "-P", str(fio_pid)], capture_output=True, text=True)
    kids = [int(p) for p in r.stdout.split()]
    return kids or [fio_pid]


class Syscalls:
    """The traced events of one round, as (time, tid, cpu, kind, nr, value): kind 'enter'
    (value: the first two arguments), 'exit' (value: the return value with the enter's
    arguments) or 'sleep' (a switch away with state S or D)."""

    def __init__(self, script_text):
        self.events = []
        pending = {}
        for line in script_text.splitlines():
            m = LINE.match(line)
            if not m:
                continue
            tid, cpu, ts, name, rest = int(m.group(1)), int(m.group(2)), float(m.group(3)), m.group(4), m.group(5)
            if name == "raw_syscalls:sys_enter":
                nr = int(rest.split()[1])
                args = rest[rest.index("(") + 1:rest.index(")")].split(",")
                pending[tid] = (nr, int(args[0], 16), int(args[1], 16))
                self.events.append((ts, tid, cpu, "enter", nr, pending[tid]))
            elif name == "raw_syscalls:sys_exit":
                nr = int(rest.split()[1])
                ret = int(rest.split("= ")[1])
                enter = pending.pop(tid, None)
                if enter and enter[0] == nr:
                    self.events.append((ts, tid, cpu, "exit", nr, (ret, enter[1], enter[2])))
            elif name == "sched:sched_switch":
                pid = re.search(r"prev_pid=(\d+)", rest)
                state = re.search(r"prev_state=(\S+)", rest)
                if pid and state and state.group(1) in ("S", "D"):
                    self.events.append((ts, int(pid.group(1)), cpu, "sleep", 0, None))
        self.events.sort(key=lambda e: e[0])


def cut_requests(trace, server_tids, server_fds, client_tids, client_fds):
    """Per request the five instants and the counts; requests the trace cut short, or whose
    instants are out of order, are dropped.

    A request's span is bounded by the client alone: it starts at the client's first send
    after it received data, and ends at the next such send. Only then are the server's
    instants placed, against the span's totals: the client may send a request in several
    writes (a TLS client sends header and payload as two records), so the server has the
    request only when its reads reach everything the client sent in the span; and the client
    may read the reply before the server's write(2) returns, so the reply's instant is the
    write's enter."""
    spans, cur, received = [], None, False
    for ev in trace.events:
        ts, tid, cpu, kind, nr, val = ev
        client = tid in client_tids
        if not (client or tid in server_tids):
            continue
        if client and kind == "enter" and nr in SOCK_WRITE and val[1] in client_fds and (cur is None or received):
            if cur is not None:
                spans.append((cur, ts))
            cur, received = [], False
        if cur is None:
            continue
        cur.append(ev)
        if client and kind == "exit" and nr in SOCK_READ and val[1] in client_fds and val[0] > 0:
            received = True
    return [r for r in (place(events, end, server_tids, server_fds, client_tids, client_fds)
                        for events, end in spans) if r is not None]


def place(events, end, server_tids, server_fds, client_tids, client_fds):
    """The instants of one request span (its events, the next span's start), or None."""
    sent = sum(val[0] for ts, tid, cpu, kind, nr, val in events if tid in client_tids and kind == "exit"
               and nr in SOCK_WRITE and val[1] in client_fds and val[0] > 0)
    r = dict(send=events[0][0], next=end, sleeps=0, syscalls=0, cpus=set())
    got = 0
    for ts, tid, cpu, kind, nr, val in events:
        r["cpus"].add(cpu)
        if tid not in server_tids:
            if kind == "exit" and nr in SOCK_READ and val[1] in client_fds and val[0] > 0 and "reply" in r:
                r["recv"] = ts  # the last read of the span completes the reply
            continue
        if kind == "sleep":
            r["sleeps"] += 1
        elif kind == "enter":
            r["syscalls"] += 1
            # a submission's instant is its enter: io_uring_enter may also wait for the completion
            if "in" in r and "submit" not in r and (nr in DISK_SUBMIT or (nr == IO_URING_ENTER and val[2] > 0)):
                r["submit"] = ts
            elif "submit" in r and "reply" not in r and nr in SOCK_WRITE and val[1] in server_fds:
                r["reply"] = ts
        elif nr in SOCK_READ and val[1] in server_fds and val[0] > 0 and "in" not in r:
            got += val[0]
            if got >= sent > 0:
                r["in"] = ts
    keys = ("send", "in", "submit", "reply", "recv", "next")
    if not all(k in r for k in keys) or any(r[a] > r[b] for a, b in zip(keys, keys[1:])):
        return None
    return r


def phases(req):
    us = 1e6
    return {"request": (req["in"] - req["send"]) * us, "server": (req["submit"] - req["in"]) * us,
            "disk": (req["reply"] - req["submit"]) * us, "reply": (req["recv"] - req["reply"]) * us,
            "client": (req["next"] - req["recv"]) * us, "total": (req["next"] - req["send"]) * us}


class TracedServer(NbdServer):
    """An NBD server whose rounds are traced: round() returns a Sample whose extra holds
    the median of each phase over the round's requests (µs), sleeps and system calls per
    request, and the share of requests that ran on one CPU."""

    def __init__(self, *args, trace_seconds=1.0, **kw):
        super().__init__(*args, **kw)
        self.trace_seconds = trace_seconds

    def round(self, seconds):
        args = self.fio_args(seconds)
        c0 = rounds.proc_cpu_seconds(self.proc.pid)
        fio = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=self.client_env())
        try:
            time.sleep(1.0)
            jobs = fio_job_pids(fio.pid)
            server_fds = connection_fds(self.proc.pid, self.port)
            client_fds = set().union(*(connection_fds(p, self.port) for p in jobs))
            client_tids = set().union(*(tids(p) for p in jobs))
            server_tids = tids(self.proc.pid)
            with tempfile.TemporaryDirectory() as d:
                data = os.path.join(d, "perf.data")
                # 4 MiB of buffer per CPU: a JIT burst in the server must not make perf drop events
                events = "raw_syscalls:sys_enter,raw_syscalls:sys_exit,sched:sched_switch"
                subprocess.run(["perf", "record", "-q", "-m", "1024", "-e", events,
                                "-p", ",".join(str(p) for p in [self.proc.pid] + jobs),
                                "-o", data, "--", "sleep", str(self.trace_seconds)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
                out, err = fio.communicate()
                c1 = rounds.proc_cpu_seconds(self.proc.pid)
                script = subprocess.run(["perf", "script", "-i", data, "-F", "tid,cpu,time,event,trace"],
                                        capture_output=True, text=True).stdout
        finally:
            # a round that failed (perf refused, fio gone) leaves no fio behind for the next
            if fio.poll() is None:
                fio.kill()
                fio.wait()
        if fio.returncode != 0:
            raise RuntimeError(f"fio exited {fio.returncode}: {err[-500:]}")
        job = self.fio_job(out)
        reqs = cut_requests(Syscalls(script), server_tids, server_fds, client_tids, client_fds)
        extra = {}
        if reqs:
            for p in PHASES:
                extra[p] = statistics.median(phases(r)[p] for r in reqs)
            extra["sleeps"] = statistics.mean(r["sleeps"] for r in reqs)
            extra["syscalls"] = statistics.mean(r["syscalls"] for r in reqs)
            extra["one CPU"] = sum(1 for r in reqs if len(r["cpus"]) == 1) / len(reqs)
            extra["requests traced"] = len(reqs)
        return rounds.Sample(job["total_ios"], job["runtime"] / 1000.0, c1 - c0, extra)


def span(values, digits=0):
    vs = [v for v in values if v == v]
    if not vs:
        return "-"
    return f"{statistics.median(vs):.{digits}f} [{min(vs):.{digits}f}-{max(vs):.{digits}f}]"


def report(res, names, rw, command, load_before, load_after):
    lines = [f"# Where a QD1 {rw} request's time goes (system-call trace)", "",
             f"Run: `{command}`; load before {load_before}, after {load_after}.", "",
             "Per server: the median of each round's per-request medians [min-max over rounds], µs; "
             "IOPS and CPU/request are of the whole (traced) fio run.", "",
             "| server | " + " | ".join(PHASES) + " | sleeps/req | syscalls/req | one CPU | requests cut | IOPS "
             "| CPU/req µs |",
             "|---" * (len(PHASES) + 7) + "|"]
    for n in names:
        ss = [s for s in res[n] if s is not None and s.extra]
        lines.append(f"| {n} | " + " | ".join(span([s.extra[p] for s in ss]) for p in PHASES)
                     + f" | {span([s.extra['sleeps'] for s in ss], 2)} | {span([s.extra['syscalls'] for s in ss], 1)}"
                     + f" | {span([100 * s.extra['one CPU'] for s in ss])} %"
                     + f" | {span([s.extra['requests traced'] for s in ss])} | {span([s.rate for s in ss])}"
                     + f" | {span([s.cpu_us_per_op for s in ss], 1)} |")
    twins = [(n, n + " tls") for n in names if n + " tls" in names]
    if twins:
        lines += ["", "What TLS adds to each phase, round by round (TLS twin minus plain, same round), µs:", "",
                  "| server | " + " | ".join(PHASES) + " |", "|---" * (len(PHASES) + 1) + "|"]
        for plain, tls in twins:
            cells = []
            for p in PHASES:
                d = [t.extra[p] - q.extra[p] for t, q in zip(res[tls], res[plain])
                     if t is not None and q is not None and t.extra and q.extra]
                cells.append(span(d))
            lines.append(f"| {plain} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--tls", required=True, help="credentials directory (server side)")
    ap.add_argument("--tls-home", required=True, help="the TLS clients' HOME (HOME/.pki/libnbd/ca-cert.pem)")
    ap.add_argument("--rw", default="randwrite")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--trace", type=float, default=1.0)
    ap.add_argument("--warmup", type=float, default=6.0)
    ap.add_argument("--nbdkit", default="yes", help="also nbdkit's file plugin (page cache, pwrite in its threads)")
    ap.add_argument("--cache", choices=("none", "writeback"), default="none",
                    help="as nbd_rounds.py: writeback serves every server through the page cache")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/results", "nbd-trace-" + time.strftime("%F-%H%M")))
    a = ap.parse_args()
    if a.trace + 1.5 > a.seconds:
        ap.error(f"--seconds {a.seconds} leaves no room for a {a.trace} s trace a second into the run")
    tls, home = os.path.abspath(a.tls), os.path.abspath(a.tls_home)
    kw = dict(trace_seconds=a.trace)
    direct, cache = a.cache == "none", a.cache
    servers = [TracedServer("aiolos io_uring", aiolos_argv(a.image, "io_uring", None, [], direct=direct), a.rw, 1, 1,
                            **kw),
               TracedServer("aiolos io_uring tls", aiolos_argv(a.image, "io_uring", None, [], tls, direct=direct),
                            a.rw, 1, 1, home, **kw),
               TracedServer("qemu-nbd io_uring", qemu_argv(a.image, "io_uring", cache=cache), a.rw, 1, 1, **kw),
               TracedServer("qemu-nbd io_uring tls", qemu_argv(a.image, "io_uring", tls, cache), a.rw, 1, 1, home,
                            **kw)]
    if a.nbdkit == "yes":
        servers += [TracedServer("nbdkit file", nbdkit_argv(a.image, cache=cache), a.rw, 1, 1, **kw),
                    TracedServer("nbdkit file tls", nbdkit_argv(a.image, tls, cache), a.rw, 1, 1, home, **kw)]
    os.makedirs(a.out, exist_ok=True)
    command = "bench/lib/nbd_trace.py " + " ".join(sys.argv[1:])
    load_before = rounds.loadavg()
    started = []
    try:
        start_all(servers, a.warmup, started)
        for s in started:
            s.set_cell(a.rw, 1)
        res = rounds.alternate(started, a.rounds, a.seconds, log=lambda m: print(m, flush=True))
    finally:
        for s in started:
            s.stop()
    names = [s.name for s in started]
    md = report(res, names, a.rw, command, load_before, rounds.loadavg())
    with open(os.path.join(a.out, "nbd-trace.md"), "w") as f:
        f.write(md)
    with open(os.path.join(a.out, "nbd-trace.json"), "w") as f:
        json.dump({n: [dict({k: round(v, 3) for k, v in s.extra.items()}, iops=round(s.rate),
                            cpu_us_per_request=round(s.cpu_us_per_op, 1)) if s else None for s in res[n]]
                   for n in names}, f, indent=1)
    print(md)


if __name__ == "__main__":
    main()
