#!/usr/bin/env python3
"""TLS connections per second to NbdMain and the server's CPU per connection, this build
against an earlier one (--baseline DIR of its aiolos-*.jar), in alternating rounds (the
method: rounds.py). Each round opens nbdinfo connections over nbds:// for SECONDS: the
handshake, NBD_OPT_GO and the disconnect, which is what a connection storm costs.

    nbd_handshakes.py --image F --tls CREDS --tls-home HOME --baseline DIR
                      [--seconds 3] [--rounds 7] [--out DIR]
"""

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rounds  # noqa: E402
from disk_rounds import ROOT, java_command  # noqa: E402
from nbd_rounds import NbdServer  # noqa: E402


class Handshakes(NbdServer):
    needs_warmup = True

    def round(self, seconds):
        c0 = rounds.proc_cpu_seconds(self.proc.pid)
        t0 = time.monotonic()
        n = 0
        while time.monotonic() - t0 < seconds:
            r = subprocess.run(["nbdinfo", "--size", self.uri()], capture_output=True, env=self.client_env())
            if r.returncode != 0:
                raise RuntimeError(f"nbdinfo failed: {r.stderr[-300:]}")
            n += 1
        return rounds.Sample(n, time.monotonic() - t0, rounds.proc_cpu_seconds(self.proc.pid) - c0)


def argv(image, tls, baseline):
    return lambda port: java_command([], baseline) + ["org.aiolos.nbd.NbdMain", "--file", image, "--name",
                                                      "bench", "--address", "127.0.0.1", "--port", str(port),
                                                      "--tls", "require", "--tls-creds", tls]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--tls", required=True)
    ap.add_argument("--tls-home", required=True)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/results", "nbd-handshakes-" + time.strftime("%F-%H%M")))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    tls, home = os.path.abspath(a.tls), os.path.abspath(a.tls_home)
    now = Handshakes("this build", argv(a.image, tls, None), "randread", 1, 1, home)
    before = Handshakes("baseline", argv(a.image, tls, a.baseline), "randread", 1, 1, home)
    table = rounds.Table("TLS connections to NbdMain (nbdinfo over nbds://), alternating rounds",
                         rounds.run_line("bench/lib/nbd_handshakes.py " + " ".join(sys.argv[1:]), a.rounds, a.seconds))
    started = []
    try:
        for s in (now, before):
            s.start()
            started.append(s)
        res = rounds.alternate(started, a.rounds, a.seconds, warmup_seconds=a.seconds,
                               log=lambda m: print(m, flush=True))
        table.add(rounds.Comparison("connections", res, now.name, before.name), None)
    finally:
        for s in started:
            s.stop()
    table.write(os.path.join(a.out, "nbd-handshakes.md"), os.path.join(a.out, "nbd-handshakes.json"))
    print(table.render())


if __name__ == "__main__":
    main()
