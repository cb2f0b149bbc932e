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
                   [--qemu-img]

--qemu-img adds QEMU itself on the same engine (`qemu-img bench -i ENGINE -t none`, its block
layer and thread pool or AIO code) and Aiolos walking the same stride as qemu-img bench
does (it has no random mode): whether a gap to fio is the design's, which QEMU shares, or
this implementation's.

Writes DIR/disk-rounds.md and DIR/disk-rounds.json; the goal per cell is Aiolos >= 0.95x fio.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rounds  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIO_ENGINE = {"threads": "psync", "native": "libaio", "io_uring": "io_uring"}
BLOCK = 4096
# The stride of the qemu-img bench comparison, in blocks: a prime, so on an image of 2^k
# blocks the walk visits every block once before it repeats, far apart from one request to
# the next (no read-ahead, no merging).
STRIDE_BLOCKS = 104729


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


def run_counting_cpu(args, what, stderr=None):
    """Runs a contender's process of one round to its end: (its stdout, the CPU seconds it
    and its children used, from wait4's rusage). A non-zero exit is an error naming what."""
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{what} exited {code}" + (f": {out.strip()[-500:]}" if stderr else ""))
    return out, ru.ru_utime + ru.ru_stime


class AiolosDisk(rounds.Contender):
    def __init__(self, engine, rw, qd, file, java_opts, fdmon, baseline_dir=None, stride_blocks=None):
        self.spec = f"{engine}:{rw}:{qd}" + (f":stride={stride_blocks}" if stride_blocks else "")
        self.name = f"aiolos {engine}" + (" (baseline)" if baseline_dir else "") + (" strided" if stride_blocks else "")
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


class QemuImgBench(rounds.Contender):
    """QEMU's own block layer on the same engine: `qemu-img bench -t none -i AIO`, one
    process per round. qemu-img bench has no random mode; it walks the image in a fixed
    stride (offset += STRIDE mod size, qemu-img.c's bench_cb), so it is compared with Aiolos
    walking the same stride (AiolosDisk with stride), each round continuing where the last
    one stopped. Its rate is its own "Run completed in" time (the request loop only); its
    CPU is the process's rusage less the start-up cost of a one-request run (calibrated once
    per cell, the least of three), so opening the image is not billed to the requests. It
    runs QEMU's main loop, which does not busy-poll."""
    needs_warmup = False

    def __init__(self, aio, rw, qd, file, stride_blocks):
        self.name = f"qemu-img bench {aio}"
        self.base = ["qemu-img", "bench", "-f", "raw", "-t", "none", "-i", aio, "-d", str(qd), "-s", str(BLOCK),
                     "-S", str(stride_blocks * BLOCK)] + (["-w"] if "write" in rw else [])
        self.file = file
        self.size = os.path.getsize(file)
        self.step = stride_blocks * BLOCK
        self.offset = 0
        self.rate = 10000.0
        self.startup_cpu = 0.0

    def _run(self, count):
        out, cpu = run_counting_cpu(self.base + ["-c", str(count), "-o", str(self.offset), self.file], "qemu-img bench",
                                    stderr=subprocess.STDOUT)
        m = re.search(r"Run completed in ([\d.]+) seconds", out)
        if not m:
            raise RuntimeError(f"qemu-img bench: no run time in {out.strip()!r}")
        self.offset = (self.offset + count * self.step) % self.size
        return float(m.group(1)), cpu

    def start(self):
        self.startup_cpu = min(self._run(1)[1] for _ in range(3))

    def round(self, seconds):
        count = max(1000, int(self.rate * seconds))
        secs, cpu = self._run(count)
        secs = max(secs, 1e-3)  # it prints milliseconds
        self.rate = count / secs
        return rounds.Sample(count, secs, max(0.0, cpu - self.startup_cpu))


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
        out, cpu = run_counting_cpu(self.args + [f"--runtime={round(seconds * 1000)}ms"], "fio")
        job = json.loads(out[out.index("{"):])["jobs"][0][self.side]
        secs = job["runtime"] / 1000.0
        return rounds.Sample(job["total_ios"], secs, cpu)


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
    ap.add_argument("--qemu-img", action="store_true",
                    help="also QEMU's block layer on the same engine (qemu-img bench) against Aiolos walking "
                         "the same stride: the design against its origin")
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
                strided = qemu = None
                if a.qemu_img:
                    strided = AiolosDisk(engine, rw, qd, a.file, a.java_opt, a.fdmon, stride_blocks=STRIDE_BLOCKS)
                    qemu = QemuImgBench(engine, rw, qd, a.file, STRIDE_BLOCKS)
                    contenders += [strided, qemu]
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
                if qemu:
                    for x, y in ((strided.name, qemu.name), (qemu.name, theirs.name), (strided.name, ours.name)):
                        if a.no_fio and y == theirs.name:
                            continue
                        c = rounds.Comparison(cell, res, x, y)
                        table.add(c, None)
                        print(f"   {cell}: {x} {rounds.fmt_ratio(c.rate_ratios)} of {y}, CPU/op "
                              f"{rounds.fmt_ratio(c.cpu_ratios)}", flush=True)
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
