#!/usr/bin/env python3
"""The disk-I/O engines against fio with the matching ioengine, in alternating rounds.

    threads  <-> fio psync    (QD n = n psync jobs, each one blocking pread/pwrite at a time)
    native   <-> fio libaio   (one job, iodepth n)
    io_uring <-> fio io_uring (one job, iodepth n)

4 KiB random O_DIRECT reads and writes on one file. Aiolos runs as one long-lived
DiskEngineBench --serve process per cell (its JIT stays warm; it drains and sits idle while
fio has its round); fio is one process per round. CPU per operation: the Aiolos process's
/proc/PID/stat delta around its round, fio's rusage (its job processes included).

    disk_rounds.py --file F [--seconds 1] [--rounds 7] [--engines threads,native,io_uring]
                   [--rw randread,randwrite] [--qd 1,32] [--out DIR] [--fdmon M] [--java-opt O]...

Writes DIR/disk-rounds.md and DIR/disk-rounds.json; the goal per cell is Aiolos >= 0.95x fio.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rounds  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIO_ENGINE = {"threads": "psync", "native": "libaio", "io_uring": "io_uring"}


def java_command(java_opts, baseline_dir=None):
    """The java command line with the bench classpath; with baseline_dir, every Aiolos jar
    of it is replaced by the same-named jar in that directory (a saved earlier build: the
    'before' of a before/after comparison)."""
    java = os.path.join(os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64"), "bin", "java")
    with open(os.path.join(ROOT, "bench/target/bench.classpath")) as f:
        jars = f.read().strip().split(":")
    if baseline_dir:
        jars = [os.path.join(baseline_dir, os.path.basename(j)) if "/org/aiolos/" in j or
                os.path.basename(j).startswith("aiolos-") else j for j in jars]
    cp = os.path.join(ROOT, "bench/target/classes") + ":" + ":".join(jars)
    return [java, "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.vm=ALL-UNNAMED",
            *java_opts, "-cp", cp]


class AiolosDisk(rounds.Contender):
    def __init__(self, engine, rw, qd, file, java_opts, fdmon, baseline_dir=None):
        self.spec = f"{engine}:{rw}:{qd}"
        self.name = f"aiolos {engine}" + (" (baseline)" if baseline_dir else "")
        opts = list(java_opts)
        if fdmon:
            opts.append(f"-Daiolos.fdmon={fdmon}")
        self.cmd = java_command(opts, baseline_dir) + ["org.aiolos.bench.DiskEngineBench", file, "--serve", self.spec]
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        line = self.proc.stdout.readline().split()
        if line != ["ready"]:
            raise RuntimeError(f"DiskEngineBench {self.spec} did not start: {line}")

    def round(self, seconds):
        c0 = rounds.proc_cpu_seconds(self.proc.pid)
        self.proc.stdin.write(f"{seconds}\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().split()
        c1 = rounds.proc_cpu_seconds(self.proc.pid)
        if len(reply) != 4:
            raise RuntimeError(f"DiskEngineBench {self.spec}: no round result")
        ops, ns, errors = (int(x) for x in reply[:3])
        if reply[3] != self.spec.split(":")[0]:
            raise RuntimeError(f"asked for engine {self.spec.split(':')[0]}, {reply[3]} served")
        if errors:
            raise RuntimeError(f"{errors} requests failed")
        return rounds.Sample(ops, ns / 1e9, c1 - c0)

    def stop(self):
        if self.proc:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Fio(rounds.Contender):
    needs_warmup = False

    def __init__(self, engine, rw, qd, file):
        jobs, depth = (qd, 1) if engine == "psync" else (1, qd)
        self.name = f"fio {engine}" + (f" x{jobs}" if jobs > 1 else "")
        self.side = "write" if "write" in rw else "read"
        self.args = ["fio", "--name=bench", f"--filename={file}", "--direct=1", f"--rw={rw}", "--bs=4k",
                     "--size=1G", f"--ioengine={engine}", f"--iodepth={depth}", f"--numjobs={jobs}",
                     "--group_reporting", "--time_based", "--randrepeat=0", "--norandommap",
                     "--output-format=json"]

    def round(self, seconds):
        p = subprocess.Popen(self.args + [f"--runtime={round(seconds * 1000)}ms"], stdout=subprocess.PIPE, text=True)
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            raise RuntimeError(f"fio exited {p.returncode}")
        job = json.loads(out[out.index("{"):])["jobs"][0][self.side]
        secs = job["runtime"] / 1000.0
        return rounds.Sample(job["total_ios"], secs, ru.ru_utime + ru.ru_stime)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--file", required=True)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--engines", default="threads,native,io_uring")
    ap.add_argument("--rw", default="randread,randwrite")
    ap.add_argument("--qd", default="1,32")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/results", "disk-rounds-" + time.strftime("%F-%H%M")))
    ap.add_argument("--fdmon", default=os.environ.get("AIOLOS_FDMON"))
    ap.add_argument("--java-opt", action="append", default=[])
    ap.add_argument("--goal", type=float, default=0.95)
    ap.add_argument("--baseline", help="a directory of earlier Aiolos jars: adds that build as a third contender "
                                       "(before/after in the same rounds)")
    ap.add_argument("--no-fio", action="store_true", help="with --baseline or --variant: only the Aiolos ones")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=OPTS",
                    help="one more Aiolos contender with further JVM options (space-separated), e.g. "
                         "'nopoll=-Daiolos.pollMaxNs=0': a setting against the default in the same rounds")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    command = "bench/lib/disk_rounds.py " + " ".join(sys.argv[1:])
    table = rounds.Table("Disk engines against fio (4 KiB, O_DIRECT), alternating rounds",
                         rounds.run_line(command, a.rounds, a.seconds)
                         + f"; fd monitor {a.fdmon or 'QEMU policy'}")
    for engine in a.engines.split(","):
        for rw in a.rw.split(","):
            for qd in (int(q) for q in a.qd.split(",")):
                cell = f"{engine} {rw} QD{qd}"
                print(f"== {cell} (load {rounds.loadavg()})", flush=True)
                ours = AiolosDisk(engine, rw, qd, a.file, a.java_opt, a.fdmon)
                theirs = Fio(FIO_ENGINE[engine], rw, qd, a.file)
                contenders = [ours] + ([] if a.no_fio else [theirs])
                variants = []
                for v in a.variant:
                    vname, _, vopts = v.partition("=")
                    d = AiolosDisk(engine, rw, qd, a.file, a.java_opt + vopts.split(), a.fdmon)
                    d.name = f"aiolos {engine} {vname}"
                    variants.append(d)
                contenders += variants
                before = None
                if a.baseline:
                    before = AiolosDisk(engine, rw, qd, a.file, a.java_opt, a.fdmon, a.baseline)
                    contenders.append(before)
                started = []
                try:
                    for c in contenders:
                        c.start()
                        started.append(c)
                    res = rounds.alternate(contenders, a.rounds, a.seconds, warmup_seconds=a.seconds,
                                           log=lambda m: print(m, flush=True))
                finally:
                    for c in started:
                        c.stop()
                if not a.no_fio:
                    c = rounds.Comparison(cell, res, ours.name, theirs.name)
                    v = table.add(c, a.goal)
                    print(f"   {cell}: {rounds.fmt_ratio(c.rate_ratios)} of {theirs.name}, CPU/op "
                          f"{rounds.fmt_ratio(c.cpu_ratios)}: goal >= {a.goal}x {v}", flush=True)
                for d in variants:
                    c = rounds.Comparison(cell, res, d.name, ours.name)
                    table.add(c, None)
                    print(f"   {cell}: {d.name} {rounds.fmt_ratio(c.rate_ratios)} of the default, CPU/op "
                          f"{rounds.fmt_ratio(c.cpu_ratios)}", flush=True)
                if before:
                    c = rounds.Comparison(cell, res, ours.name, before.name)
                    table.add(c, None)
                    print(f"   {cell}: {rounds.fmt_ratio(c.rate_ratios)} of the baseline, CPU/op "
                          f"{rounds.fmt_ratio(c.cpu_ratios)}", flush=True)
                    if not a.no_fio:
                        table.add(rounds.Comparison(cell, res, before.name, theirs.name), a.goal)
    table.run_line += f"; load after {rounds.loadavg()}"
    table.write(os.path.join(a.out, "disk-rounds.md"), os.path.join(a.out, "disk-rounds.json"))
    print(table.render())


if __name__ == "__main__":
    main()
