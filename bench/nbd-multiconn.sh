#!/usr/bin/env bash
# One export served by 1 and 2 IOThreads over 1, 2 and 4 connections, beside qemu-nbd and
# nbdkit, in alternating rounds: bench/nbd.sh multiconn (bench/lib/nbd_multiconn.py).
#
#   bench/nbd-multiconn.sh [ROUNDS, default 7] [SECONDS per round, default 1] [IMAGE]
exec "$(dirname "$0")/nbd.sh" multiconn "${3:-bench/target/nbd-bench.img}" "${1:-7}" "${2:-1}"
