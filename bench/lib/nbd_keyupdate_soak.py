#!/usr/bin/env python3
"""TLS key updates under load: does any client stall or lose a byte?

NbdMain (TLS required, 2 IOThreads) runs with a short JDK key limit (jdk.tls.keyLimits
2^LOG2 bytes instead of 2^37), so a session asks its client for new keys every 2^(LOG2-1)
bytes read and updates its own write key every 2^LOG2 written: at the default 2^26, up to
several times a second per session, where the default limit gives one per 64 GiB. Each run
is fio's nbd engine (libnbd and GnuTLS, as nbdcopy and nbdfuse use them): JOBS connections
at QD32, mixed random reads and writes of 4-256 KiB, every block verified (crc32c) when read
back. A run is
  clean    fio ended on time with no error,
  stalled  fio still running 30 s after its time (then its jobs are dumped and killed),
  error    fio ended with an error (GnuTLS ends a session at its ninth KeyUpdate within a
           second, lib/tls13/key_update.c: LOG2 below about 25 reaches that by design).
The server's DEBUG log counts the key updates it asked for (builds before 2026-12-03 do not
log them, so a --baseline of one counts 0). Not a comparison: a run that is
not clean is a finding. Until 2026-12-03 the server sent its request for new keys alone, and
libnbd, blocked sending a write's payload, then waited for a reply that could not come (see
docs/nbd.md, "No TLS record without data").

    nbd_keyupdate_soak.py --image F --tls CREDS --tls-home HOME [--runs 5] [--seconds 20]
                          [--log2-limit 26] [--jobs 4] [--baseline DIR] [--out DIR]

Writes DIR/nbd-keyupdate.md and DIR/nbd-keyupdate.json.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from disk_rounds import ROOT, java_command  # noqa: E402
from nbd_rounds import port_free  # noqa: E402

ASKED = re.compile(r".*NBD TLS: \d+ bytes read under one key; asking the client for new keys.*")


def free_port():
    for port in range(12200, 12400):
        if port_free(port):
            return port
    raise RuntimeError("no free port in 12200-12399")


def start_server(a, port, out):
    security = os.path.join(out, "key-limit.security")
    with open(security, "w") as f:
        f.write(f"jdk.tls.keyLimits=AES/GCM/NoPadding KeyUpdate 2^{a.log2_limit}, "
                f"ChaCha20-Poly1305 KeyUpdate 2^{a.log2_limit}\n")
    logging = os.path.join(out, "logging.properties")
    with open(logging, "w") as f:
        f.write("handlers=java.util.logging.ConsoleHandler\njava.util.logging.ConsoleHandler.level=ALL\n"
                "org.aiolos.nbd.level=FINE\n")
    log = open(os.path.join(out, "server.log"), "w")
    argv = java_command(["-Xms32m", "-Xmx256m", f"-Djava.security.properties={security}",
                         f"-Djava.util.logging.config.file={logging}"], a.baseline) + [
        "org.aiolos.nbd.NbdMain", "--file", a.image, "--name", "soak", "--address", "127.0.0.1",
        "--port", str(port), "--iothreads", "2", "--tls", "require", "--tls-creds", a.tls]
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        with open(log.name) as f:
            if "listening on" in f.read():
                return p, log.name
        if p.poll() is not None:
            break
        time.sleep(0.2)
    p.kill()
    raise RuntimeError(f"NbdMain did not start; see {log.name}")


def asked(server_log):
    with open(server_log) as f:
        return sum(1 for line in f if ASKED.match(line))


def kill_run(fio_out):
    """Kills every process of one fio run. Its job processes start sessions of their own and
    outlive the parent, so they are found by the run's unique --output argument."""
    mark = f"--output={fio_out}".encode()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if mark in f.read().split(b"\0"):
                        os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def one_run(a, port, n, out):
    span = a.size_mib // a.jobs
    fio_out = os.path.join(out, f"fio-{n}.json")
    argv = ["fio", "--name=soak", "--ioengine=nbd", f"--uri=nbds://127.0.0.1:{port}/soak", "--rw=randrw",
            "--bs=4k-256k", "--iodepth=32", f"--numjobs={a.jobs}", f"--size={span - 4}M",
            f"--offset_increment={span}M", f"--runtime={a.seconds}", "--time_based", "--verify=crc32c",
            "--verify_backlog=64", "--verify_fatal=1", "--verify_state_save=0", "--group_reporting",
            "--output-format=json", f"--output={fio_out}"]
    env = dict(os.environ, HOME=a.tls_home)
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        console, _ = p.communicate(timeout=a.seconds + 30)
        verdict = "clean" if p.returncode == 0 else "error"
    except subprocess.TimeoutExpired:
        verdict = "stalled"
        dump = subprocess.run(["ss", "-tni", f"( dport = :{port} or sport = :{port} )"],
                              capture_output=True, text=True).stdout
        with open(os.path.join(out, f"stall-{n}.txt"), "w") as f:
            f.write(dump)
        kill_run(fio_out)
        console, _ = p.communicate()
    read_gib = written_gib = 0.0
    try:
        with open(fio_out) as f:
            text = f.read()
        job = json.loads(text[text.index("{"):])["jobs"][0]
        read_gib = job["read"]["io_bytes"] / 2**30
        written_gib = job["write"]["io_bytes"] / 2**30
    except (OSError, ValueError, KeyError, IndexError):
        pass
    errors = [line for line in (console or "").splitlines() if "err=" in line or "error" in line.lower()]
    return {"run": n, "verdict": verdict, "read_gib": round(read_gib, 2), "written_gib": round(written_gib, 2),
            "errors": errors[:5]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image", required=True)
    ap.add_argument("--tls", required=True, help="the server's credentials directory")
    ap.add_argument("--tls-home", required=True, help="the clients' HOME (HOME/.pki/libnbd/ca-cert.pem)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--log2-limit", type=int, default=26)
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--baseline", metavar="DIR",
                    help="run an earlier build instead (its Aiolos jars in DIR, as disk_rounds.py takes them)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/results", "nbd-keyupdate-" + time.strftime("%F-%H%M")))
    a = ap.parse_args()
    a.size_mib = os.path.getsize(a.image) >> 20
    os.makedirs(a.out, exist_ok=True)
    port = free_port()
    server, server_log = start_server(a, port, a.out)
    results = []
    try:
        for n in range(1, a.runs + 1):
            before = asked(server_log)
            r = one_run(a, port, n, a.out)
            r["key_updates_asked"] = asked(server_log) - before
            results.append(r)
            print(f"run {n}: {r['verdict']}, {r['read_gib']} GiB read, {r['written_gib']} GiB written, "
                  f"{r['key_updates_asked']} key updates asked" + ("; " + r["errors"][0] if r["errors"] else ""),
                  flush=True)
    finally:
        server.terminate()
        server.wait(30)
    clean = sum(1 for r in results if r["verdict"] == "clean")
    title = (f"TLS key updates under load: {clean} of {len(results)} runs clean "
             f"(jdk.tls.keyLimits 2^{a.log2_limit}, fio nbd {a.jobs} jobs QD32 randrw 4-256 KiB verified, "
             f"{a.seconds} s per run, {time.strftime('%F %H:%M UTC', time.gmtime())}"
             + (f", baseline build {a.baseline}" if a.baseline else "") + ")")
    rows = ["| run | verdict | GiB read | GiB written | key updates asked |", "|---|---|---:|---:|---:|"]
    rows += [f"| {r['run']} | {r['verdict']} | {r['read_gib']} | {r['written_gib']} | {r['key_updates_asked']} |"
             for r in results]
    with open(os.path.join(a.out, "nbd-keyupdate.md"), "w") as f:
        f.write("## " + title + "\n\n" + "\n".join(rows) + "\n")
    with open(os.path.join(a.out, "nbd-keyupdate.json"), "w") as f:
        json.dump({"title": title, "runs": results}, f, indent=1)
    print(title)
    print("\n".join(rows))
    sys.exit(0 if clean == len(results) else 1)


if __name__ == "__main__":
    main()
