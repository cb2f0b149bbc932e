#!/usr/bin/env bash
# The io_uring engine on the fd monitor's ring against its private ring (and epoll), with
# the server's system calls per request, in alternating rounds: bench/nbd.sh ring
# (bench/lib/nbd_ring.py).
#
#   bench/nbd-ring.sh [ROUNDS, default 7] [SECONDS per round, default 1] [IMAGE]
exec "$(dirname "$0")/nbd.sh" ring "${3:-bench/target/nbd-bench.img}" "${1:-7}" "${2:-1}"
