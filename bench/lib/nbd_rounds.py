#!/usr/bin/env python3
"""NBD servers head to head in alternating rounds: fio --ioengine=nbd, 4 KiB random reads
and writes at QD1 and QD32, against Aiolos (NbdMain) and its peers on one image.

    aiolos ENGINE   NbdMain --direct --engine ENGINE [--fdmon M]
    qemu-nbd AIO    qemu-nbd -f raw --cache=none --aio=AIO --shared=8
    nbdkit          nbdkit file cache=none (no O_DIRECT mode: it evicts pages after the fact)

All servers run side by side for the whole run (an idle one costs nothing); in every cell
each takes its turn in every round (the first one rotating), one fio process per round. The
server's CPU per request is its /proc/PID/stat delta over the round divided by the requests.
Goals per cell: Aiolos at or ahead of the best peer *of the same round* (>= 1.0x), and its
CPU per request at most qemu-nbd's (<= 1.0x, against each qemu-nbd variant).

    nbd_rounds.py --image F [--seconds 1] [--rounds 7] [--aiolos io_uring[,threads,...]]
                  [--qemu io_uring[,threads,native]] [--nbdkit yes|no] [--fdmon M]
                  [--jobs 1] [--buffered] [--cache none|writeback] [--tls CREDS --tls-home HOME]
                  [--variant NAME=ARGS] [--baseline DIR] [--syscalls] [--out DIR]

--buffered adds Aiolos without O_DIRECT (through the page cache, as nbdkit's file plugin
writes): the like-for-like contender for nbdkit; with --tls also its TLS twin.

--cache writeback runs every server through the page cache instead (Aiolos without
--direct, qemu-nbd --cache=writeback, nbdkit cache=default): the like-for-like
configuration for all three, since nbdkit's file plugin has no O_DIRECT mode. Reads then
come from memory once the image is cached, so a cell measures the servers and the
transport, not the disk.

--tls adds a twin of every server with TLS required (Aiolos --tls require --tls-creds
CREDS, qemu-nbd --object tls-creds-x509,dir=CREDS,verify-peer=off --tls-creds, nbdkit
--tls=require --tls-certificates=CREDS), reached at nbds:// by clients whose HOME is HOME
(libnbd finds the CA in HOME/.pki/libnbd). The TLS twins are compared like the plaintext
servers, and each server's TLS cost (its TLS twin over itself, per round) is listed.

--variant adds Aiolos with extra NbdMain arguments (-JOPTION passes OPTION to its JVM),
--baseline DIR an earlier build (its Aiolos jars in DIR, as disk_rounds.py takes them), each
judged against the default build in the same rounds (with TLS, their twins too); --syscalls
counts every Aiolos server's system calls (all, read, io_uring_enter) and context switches
per request with perf, and compares them for those pairs and for each Aiolos TLS twin
against its plaintext self.

Writes DIR/nbd-rounds.md and DIR/nbd-rounds.json.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rounds  # noqa: E402
from disk_rounds import java_command, ROOT  # noqa: E402


def port_free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


class NbdServer(rounds.Contender):
    """A server process on its own port, measured by fio rounds against it."""

    next_port = 10950

    def __init__(self, name, argv_for_port, rw, qd, jobs, client_home=None, perf_events=None):
        self.name = name
        # perf events counted over the server's threads during each round (e.g. system
        # calls); the counts land in Sample.extra.
        self.perf_events = perf_events
        self.client_home = client_home  # set for a TLS server: its clients' HOME, and nbds://
        self.argv_for_port = argv_for_port
        self.rw = rw
        self.qd = qd
        self.jobs = jobs
        self.proc = None
        self.port = None
        self.log = None

    def start(self):
        port = NbdServer.next_port
        while not port_free(port):
            port += 1
        NbdServer.next_port = port + 1
        self.port = port
        self.log = open(os.path.join(ROOT, f"bench/target/nbd-server-{port}.log"), "w+")
        self.proc = subprocess.Popen(self.argv_for_port(port), stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            if self.proc.poll() is not None:
                break
            r = subprocess.run(["nbdinfo", "--size", self.uri()], capture_output=True, env=self.client_env())
            if r.returncode == 0:
                return
            time.sleep(0.1)
        self.stop()
        self.log.seek(0)
        raise RuntimeError(f"{self.name} did not start: {self.log.read()[-2000:]}")

    def uri(self):
        return f"{'nbds' if self.client_home else 'nbd'}://127.0.0.1:{self.port}/bench"

    def client_env(self):
        return dict(os.environ, HOME=self.client_home) if self.client_home else None

    def set_cell(self, rw, qd, jobs=None):
        """The next rounds' workload; qd is per connection (fio job)."""
        self.rw, self.qd = rw, qd
        if jobs is not None:
            self.jobs = jobs

    def fio_args(self, seconds):
        """The fio command of one round of the current cell against this server."""
        return ["fio", "--name=bench", "--ioengine=nbd", f"--uri={self.uri()}", f"--rw={self.rw}", "--bs=4k",
                f"--iodepth={self.qd}", f"--numjobs={self.jobs}", "--group_reporting", "--time_based",
                f"--runtime={round(seconds * 1000)}ms", "--randrepeat=0", "--norandommap", "--output-format=json"]

    def fio_job(self, out):
        """The measured direction's figures from fio's JSON output (libnbd prints a line before it)."""
        return json.loads(out[out.index("{"):])["jobs"][0]["write" if "write" in self.rw else "read"]

    def round(self, seconds):
        args = self.fio_args(seconds)
        perf = None
        if self.perf_events:
            perf_out = os.path.join(ROOT, f"bench/target/nbd-perf-{self.port}.csv")
            # SIGINT ends perf stat and makes it write its counts; started before the load.
            perf = subprocess.Popen(["perf", "stat", "-x,", "-e", ",".join(self.perf_events), "-p",
                                     str(self.proc.pid), "-o", perf_out], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(0.3)
        c0 = rounds.proc_cpu_seconds(self.proc.pid)
        r = subprocess.run(args, capture_output=True, text=True, env=self.client_env())
        c1 = rounds.proc_cpu_seconds(self.proc.pid)
        extra = None
        if perf:
            perf.send_signal(2)
            perf.wait(timeout=20)
            extra = perf_counts(perf_out)
        if r.returncode != 0:
            raise RuntimeError(f"fio exited {r.returncode}: {r.stderr[-500:]}")
        out = r.stdout
        job = self.fio_job(out)
        return rounds.Sample(job["total_ios"], job["runtime"] / 1000.0, c1 - c0, extra)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# What --syscalls counts for every Aiolos server: all system calls, the reads (a request
# whose payload arrives after its header costs one more), the io_uring_enter calls (each
# wait of the loop, and submissions that do not ride on one) and the context switches
# (every sleep of a thread).
COUNTED_EVENTS = ("raw_syscalls:sys_enter", "syscalls:sys_enter_read", "syscalls:sys_enter_io_uring_enter",
                  "context-switches")


def perf_counts(path):
    """{event: count} from perf stat -x, output."""
    counts = {}
    with open(path) as f:
        for line in f:
            fields = line.strip().split(",")
            if len(fields) > 2 and fields[0].replace(".", "").isdigit():
                counts[fields[2]] = int(float(fields[0]))
    return counts


def aiolos_argv(image, engine, fdmon, java_opts, tls=None, iothreads=None, direct=True, extra=(), baseline_dir=None):
    # -JOPTION in extra is a JVM option of this server (javac's convention), the rest NbdMain's.
    jvm = list(java_opts) + [x[2:] for x in extra if x.startswith("-J")]
    extra = [x for x in extra if not x.startswith("-J")]

    def argv(port):
        a = java_command(jvm, baseline_dir) + ["org.aiolos.nbd.NbdMain", "--file", image, "--name", "bench",
                                       "--address", "127.0.0.1", "--port", str(port), "--engine", engine]
        a += ["--direct"] if direct else []
        a += ["--tls", "require", "--tls-creds", tls] if tls else []
        a += ["--iothreads", str(iothreads)] if iothreads else []
        return a + (["--fdmon", fdmon] if fdmon else []) + list(extra)
    return argv


def qemu_argv(image, aio, tls=None, cache="none"):
    t = ["--object", f"tls-creds-x509,id=tls0,endpoint=server,dir={tls},verify-peer=off",
         "--tls-creds", "tls0"] if tls else []
    return lambda port: ["qemu-nbd", "-f", "raw", "--persistent", "--shared=8", "-t", "-b", "127.0.0.1",
                         "-p", str(port), "-x", "bench", f"--cache={cache}", f"--aio={aio}"] + t + [image]


def nbdkit_argv(image, tls=None, cache="none"):
    t = ["--tls=require", f"--tls-certificates={tls}"] if tls else []
    return lambda port: ["nbdkit", "-f", "-i", "127.0.0.1", "-p", str(port), "-e", "bench"] + t + [
        "file", image, "cache=" + ("none" if cache == "none" else "default")]


def common_args(ap, stem):
    """The options every NBD comparison takes: image, rounds, their length, warm-up, JVM
    options, and the output folder (bench/results/STEM-<date>)."""
    ap.add_argument("--image", required=True)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--rw", default="randread,randwrite")
    # Under load the JVM's JIT needs more than 3 s (2026-12-02, load 15-25: the server's CPU
    # per request still fell from 1.4 ms to 0.26 ms over the next five 1 s rounds).
    ap.add_argument("--warmup", type=float, default=6.0)
    ap.add_argument("--java-opt", action="append", default=[])
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/results", stem + "-" + time.strftime("%F-%H%M")))


def start_all(servers, warmup_seconds, started, jobs=1):
    """Starts the servers into started (one that fails is left out, with its log), so the
    caller's finally stops whatever did start, and gives each the same unmeasured mixed
    run, in which the JIT compiles Aiolos' hot paths (none with warmup_seconds 0)."""
    for s in servers:
        try:
            s.start()
            started.append(s)
        except RuntimeError as e:
            print(f"left out: {e}", flush=True)
    for s in started if warmup_seconds > 0 else []:
        s.set_cell("randrw", 16 if jobs == 1 else 8, jobs)
        try:
            s.round(warmup_seconds)
        except RuntimeError as e:
            print(f"warm-up {s.name}: {e}", flush=True)


def qd_cells(a):
    """(name, rw, qd, jobs) of every --rw and --qd, one connection."""
    return [(f"{rw} QD{qd}", rw, int(qd), None) for rw in a.rw.split(",") for qd in a.qd.split(",")]


def run_cells(started, a, cells):
    """For each (name, rw, qd, jobs) of cells: every server set to it, then the alternating
    rounds; yields (name, jobs, {server: [Sample per round]})."""
    for cell, rw, qd, jobs in cells:
        print(f"== {cell} (load {rounds.loadavg()})", flush=True)
        for s in started:
            s.set_cell(rw, qd, jobs)
        yield cell, jobs, rounds.alternate(started, a.rounds, a.seconds, log=lambda m: print(m, flush=True))


def finish(table, started, out, stem, more=""):
    """Stops the servers, writes OUT/STEM.md and .json (and appends more to the .md), prints it."""
    for s in started:
        s.stop()
    if started:
        table.run_line += f"; load after {rounds.loadavg()}"
    table.write(os.path.join(out, stem + ".md"), os.path.join(out, stem + ".json"))
    if more:
        with open(os.path.join(out, stem + ".md"), "a") as f:
            f.write("\n" + more)
    print(table.render() + ("\n" + more if more else ""))


def best_of(results, names):
    """Per round, the sample of the fastest of names: the 'best peer' of that round."""
    best = []
    for samples in zip(*(results[n] for n in names)):
        ok = [s for s in samples if s is not None]
        best.append(max(ok, key=lambda s: s.rate) if ok else None)
    return best


def judge_cell(table, cell, res, ours, peers, ours_tls, peers_tls, variant_pairs):
    """Every comparison of one cell into table; the lists name the servers that ran,
    variant_pairs are (variant, its default)."""
    if peers:
        res["best peer"] = best_of(res, peers)
    if peers_tls:
        res["best TLS peer"] = best_of(res, peers_tls)
    for o in ours_tls:
        if peers_tls:
            c = rounds.Comparison(cell, res, o, "best TLS peer")
            v = table.add(c, 1.0)
            print(f"   {o} / best TLS peer: {rounds.fmt_ratio(c.rate_ratios)} {v}", flush=True)
        for p in peers_tls:
            table.add(rounds.Comparison(cell, res, o, p), 1.0, cpu_goal=1.0 if p.startswith("qemu-nbd") else None)
    # TLS cost: each server's TLS twin over itself, in the same rounds.
    for t in ours_tls + peers_tls:
        plain = t[:-len(" tls")]
        if plain in res:
            c = rounds.Comparison(cell, res, t, plain)
            table.add(c, None, goal_text="TLS cost")
            print(f"   TLS cost {plain}: {rounds.fmt_ratio(c.rate_ratios)}", flush=True)
            res[f"TLS cost of {plain}"] = rounds.quotient(res, t, plain)
    # The goal: TLS leaves Aiolos at least the share of its plaintext rate it leaves
    # qemu-nbd, round by round (the goal for TLS).
    for o in ours_tls:
        for p in (x for x in peers_tls if x.startswith("qemu-nbd")):
            ours_cost, peer_cost = f"TLS cost of {o[:-4]}", f"TLS cost of {p[:-4]}"
            if ours_cost in res and peer_cost in res:
                c = rounds.Comparison(cell, res, ours_cost, peer_cost)
                v = table.add(c, 1.0, "TLS keeps >= qemu-nbd's share", rate_digits=2)
                print(f"   {ours_cost} / {peer_cost}: {rounds.fmt_ratio(c.rate_ratios)} {v}", flush=True)
    for v, base in variant_pairs:
        if v in res and base in res:
            c = rounds.Comparison(cell, res, v, base)
            table.add(c, None, goal_text="variant")
            print(f"   {v} / {base}: {rounds.fmt_ratio(c.rate_ratios)}", flush=True)
    for o in ours:
        if peers:
            c = rounds.Comparison(cell, res, o, "best peer")
            v = table.add(c, 1.0)
            print(f"   {o} / best peer: {rounds.fmt_ratio(c.rate_ratios)} {v}", flush=True)
        for p in peers:
            table.add(rounds.Comparison(cell, res, o, p), 1.0, cpu_goal=1.0 if p.startswith("qemu-nbd") else None)


def read_console(path):
    """{cell: {server: [Sample per round]}} from the console output of a run (the lines
    run_cells and rounds.alternate print), for --from-console. A sample's operations are
    its rate over one second: ratios, rates and CPU per operation come out as measured."""
    cells, cur = {}, None
    with open(path) as f:
        for line in f:
            m = re.match(r"== (\S+ QD\d+(?: x\d+)?)", line)
            if m:
                cur = cells.setdefault(m.group(1), {})
                continue
            m = re.match(r"\s+round\s+\d+ (.+?)\s+(\d+) ops/s\s+([\d.]+) us CPU/op", line)
            if m and cur is not None:
                ops, cpu_us = float(m.group(2)), float(m.group(3))
                cur.setdefault(m.group(1).strip(), []).append(rounds.Sample(ops, 1.0, cpu_us * ops / 1e6))
                continue
            m = re.match(r"\s+round\s+\d+ (.+?): failed", line)
            if m and cur is not None:
                cur.setdefault(m.group(1).strip(), []).append(None)
    return cells


def main():
    ap = argparse.ArgumentParser()
    common_args(ap, "nbd-rounds")
    ap.add_argument("--aiolos", default="io_uring")
    ap.add_argument("--qemu", default="io_uring")
    ap.add_argument("--nbdkit", default="yes")
    ap.add_argument("--fdmon", default=os.environ.get("AIOLOS_FDMON"))
    ap.add_argument("--qd", default="1,32")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--buffered", action="store_true",
                    help="also Aiolos without O_DIRECT (page cache, as nbdkit's file plugin writes)")
    ap.add_argument("--cache", choices=("none", "writeback"), default="none",
                    help="none: Aiolos --direct, qemu-nbd --cache=none, nbdkit cache=none (default); "
                         "writeback: every server through the page cache")
    ap.add_argument("--tls", help="credentials directory: add a TLS-required twin of every server")
    ap.add_argument("--tls-home", help="the TLS clients' HOME (HOME/.pki/libnbd/ca-cert.pem)")
    ap.add_argument("--from-console", metavar="LOG",
                    help="judge the rounds a run printed (its console output) instead of running: for a run "
                         "that ended before it wrote its tables; the other options must be the run's")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=ARGS",
                    help="also Aiolos with these NbdMain arguments (and its TLS twin), against the default")
    ap.add_argument("--baseline", metavar="DIR",
                    help="a directory of earlier Aiolos jars: that build too (and its TLS twin), this one against it")
    ap.add_argument("--syscalls", action="store_true",
                    help="count the Aiolos servers' system calls per request (perf stat), for --variant/--baseline")
    a = ap.parse_args()
    ours_events = list(COUNTED_EVENTS) if a.syscalls else None
    variants = [(v.split("=", 1)[0], v.split("=", 1)[1].split()) for v in a.variant]
    if a.buffered and a.cache != "none":
        ap.error("--buffered adds a page-cache Aiolos to the O_DIRECT run; with --cache writeback every server is one")
    os.makedirs(a.out, exist_ok=True)
    direct = a.cache == "none"
    engines = list(filter(None, a.aiolos.split(",")))

    def contenders(tls=None, home=None):
        """Every server of one transport (plaintext, or TLS required with tls and home):
        (ours, peers, baselines); a TLS server is named as its plaintext twin plus ' tls'."""
        sfx = " tls" if tls else ""
        ours, peers, baselines = [], [], []

        def aiolos(e, label, events=ours_events, **kw):
            return NbdServer(f"aiolos {e}{label}{sfx}", aiolos_argv(a.image, e, a.fdmon, a.java_opt, tls, **kw),
                             "randread", 1, a.jobs, home, perf_events=events)
        for e in engines:
            ours.append(aiolos(e, "", direct=direct))
            ours += [aiolos(e, f" {name}", direct=direct, extra=extra) for name, extra in variants]
            if a.buffered:
                ours.append(aiolos(e, " buffered", events=None, direct=False))
            if a.baseline:
                # the earlier build runs in the rounds but is judged only against this one
                baselines.append(aiolos(e, " baseline", direct=direct, baseline_dir=a.baseline))
        for q in filter(None, a.qemu.split(",")):
            peers.append(NbdServer(f"qemu-nbd {q}{sfx}", qemu_argv(a.image, q, tls, a.cache), "randread", 1, a.jobs,
                                   home))
        if a.nbdkit == "yes":
            peers.append(NbdServer(f"nbdkit file{sfx}", nbdkit_argv(a.image, tls, a.cache), "randread", 1, a.jobs,
                                   home))
        return ours, peers, baselines

    ours, peers, baselines = contenders()
    ours_tls, peers_tls = [], []
    if a.tls:
        ours_tls, peers_tls, tls_baselines = contenders(os.path.abspath(a.tls), os.path.abspath(a.tls_home))
        baselines += tls_baselines
    servers = ours + peers + ours_tls + peers_tls + baselines
    command = "bench/lib/nbd_rounds.py " + " ".join(sys.argv[1:])
    table = rounds.Table(f"NBD servers, fio --ioengine=nbd 4 KiB, {a.jobs} connection(s), alternating rounds",
                         rounds.run_line(command, a.rounds, a.seconds)
                         + f"; Aiolos fd monitor {a.fdmon or 'QEMU policy'}"
                         + ("; every server through the page cache" if a.cache == "writeback" else ""))
    if a.from_console:
        table.run_line = f"Judged afterwards from the rounds the run printed ({a.from_console}): `{command}`"
    variant_pairs = [(f"aiolos {e} {name}{suffix}", f"aiolos {e}{suffix}") for name, _ in variants
                     for e in engines for suffix in ("", " tls")]
    variant_pairs += [(f"aiolos {e}{suffix}", f"aiolos {e} baseline{suffix}") for e in engines
                      for suffix in ("", " tls")] if a.baseline else []
    # With TLS, each Aiolos TLS twin is counted against its plaintext self as well.
    count_pairs = variant_pairs + [(o.name, o.name[:-len(" tls")]) for o in ours_tls]
    calls = rounds.MetricTable("System calls and context switches per request (perf, all the server's threads)")
    started = []
    try:
        if a.from_console:
            cells = read_console(a.from_console)
            seen = {n for res in cells.values() for n in res}
            started = [x for x in servers if x.name in seen]
            cell_results = ((cell, None, res) for cell, res in cells.items())
        else:
            start_all(servers, a.warmup, started)
            cell_results = run_cells(started, a, qd_cells(a))

        def ran(group):
            return [x.name for x in group if x in started]

        for cell, _, res in cell_results:
            judge_cell(table, cell, res, ran(ours), ran(peers), ran(ours_tls), ran(peers_tls), variant_pairs)
            for v, base in count_pairs if a.syscalls and not a.from_console else ():
                if v in res and base in res:
                    for event in COUNTED_EVENTS:
                        calls.add(cell, res, v, base, event)
    finally:
        finish(table, [] if a.from_console else started, a.out, "nbd-rounds", calls.render() if calls.rows else "")


if __name__ == "__main__":
    main()
