package org.aiolos.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import org.aiolos.api.PollParams;
import org.aiolos.api.diskio.DiskFile;
import org.aiolos.api.diskio.DiskIoEngine;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.ContextOptions;
import org.aiolos.linux.AlignedBuffers;
import org.aiolos.linux.Fds;
import org.aiolos.linux.Files;

/**
 * 4 KiB random O_DIRECT reads or writes through one disk-I/O engine at a fixed queue
 * depth, the way fio drives a file: every completion submits the next request at a new
 * random block, so exactly {@code qd} requests are in flight. Not JMH: the quantity is
 * a device-bound rate over seconds, compared with fio on the same file in the same run.
 *
 * <pre>
 * DiskEngineBench FILE SECONDS ENGINE:RW:QD [ENGINE:RW:QD ...]
 *   ENGINE = threads | native | io_uring,  RW = randread | randwrite,  QD = 1..1024
 * </pre>
 * Prints one line per run: {@code engine rw qd iops mean_latency_us}. The context is an
 * IOThread-style one (adaptive polling up to 32768 ns, QEMU's IOThread default) on QEMU's
 * fd-monitor policy, or the monitor named by {@code -Daiolos.fdmon=poll|epoll|io_uring};
 * {@code -Daiolos.pollMaxNs=N} sets the adaptive-polling limit (0 = off);
 * {@code -Daiolos.aioMaxBatch=N} the context's aio-max-batch (0 = the engine's default);
 * one second of warm-up precedes each measured run.
 *
 * <pre>
 * DiskEngineBench FILE --serve ENGINE:RW:QD[:stride=BLOCKS]
 * </pre>
 * The alternating-rounds mode (bench/lib/disk_rounds.py): one context and engine for the
 * process's life; prints {@code ready ENGINE}, then for every line {@code SECONDS} read on
 * stdin runs one round (fills the queue, runs, drains: idle between rounds, so the other
 * contender's round has the machine) and prints {@code ops nanoseconds errors engine}. The harness
 * reads the process's CPU time around each round from /proc. With {@code stride=BLOCKS} the
 * requests walk the file as {@code qemu-img bench -S} does ({@code bench_cb} in
 * {@code qemu-img.c}: each request {@code BLOCKS} blocks after the previous one, modulo the
 * file) instead of at random blocks, so the two can be compared on the same offsets.
 */
public final class DiskEngineBench {
    private static final int BLOCK = 4096;

    private final AiolosContext ctx;
    private final DiskIoEngine engine;
    private final DiskFile file;
    private final long blocks;
    private final boolean write;
    private final MemorySegment[][] buffers;
    private final DiskIoEngine.IoCompletion[] completions;
    private long seed = 0x9E3779B97F4A7C15L;
    /** Blocks from one request to the next, or 0 for random blocks. */
    private final long strideBlocks;
    private long strideCursor;
    private long completed;
    private long errors;
    private boolean stopping;
    private int inFlight;

    private DiskEngineBench(AiolosContext ctx, DiskFile file, long fileSize, boolean write, int qd, long strideBlocks,
            Arena arena) {
        this.ctx = ctx;
        this.strideBlocks = strideBlocks;
        this.engine = ctx.diskIo();
        this.file = file;
        this.blocks = fileSize / BLOCK;
        this.write = write;
        this.buffers = new MemorySegment[qd][];
        this.completions = new DiskIoEngine.IoCompletion[qd];
        for (int i = 0; i < qd; i++) {
            MemorySegment b = AlignedBuffers.allocate(arena, BLOCK, BLOCK);
            b.fill((byte) (i + 1));
            buffers[i] = new MemorySegment[] {b};
            int slot = i;
            completions[i] = r -> onComplete(slot, r);
        }
    }

    /** xorshift64: cheap, allocation-free random block numbers; or the next block of the stride walk. */
    private long nextBlock() {
        if (strideBlocks > 0) {
            long b = strideCursor;
            strideCursor = (strideCursor + strideBlocks) % blocks;
            return b;
        }
        long x = seed;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        seed = x;
        return Long.remainderUnsigned(x, blocks);
    }

    private void submit(int slot) {
        long offset = nextBlock() * BLOCK;
        inFlight++;
        if (write) {
            engine.writev(file, offset, buffers[slot], false, completions[slot]);
        } else {
            engine.readv(file, offset, buffers[slot], completions[slot]);
        }
    }

    private void onComplete(int slot, long result) {
        inFlight--;
        if (result != BLOCK) {
            errors++;
        }
        completed++;
        if (!stopping) {
            submit(slot);
        }
    }

    /** Runs for {@code ns}; returns completions counted in that time. */
    private long run(long ns) {
        long start = completed;
        long end = System.nanoTime() + ns;
        while (System.nanoTime() < end) {
            ctx.poll(true);
        }
        return completed - start;
    }

    private void drain() {
        stopping = true;
        while (inFlight > 0) {
            ctx.poll(true);
        }
    }

    /** One round of the serve mode: exactly qd in flight for {@code ns}, then drained. */
    private long[] round(long ns) {
        stopping = false;
        long errorsBefore = errors;
        for (int s = 0; s < completions.length; s++) {
            submit(s);
        }
        long t0 = System.nanoTime();
        long n = run(ns);
        long elapsed = System.nanoTime() - t0;
        drain();
        return new long[] {n, elapsed, errors - errorsBefore};
    }

    private static void serve(DiskFile file, long size, String spec) throws java.io.IOException {
        String[] p = spec.split(":");
        ContextOptions o = ContextOptions.ioThreadDefaults("bench-" + p[0])
                .withDiskEngine(p[0]).withFdMonitor(System.getProperty("aiolos.fdmon"));
        String pollNs = System.getProperty("aiolos.pollMaxNs");
        if (pollNs != null) {
            o = o.withPollParams(new PollParams(Long.parseLong(pollNs), 0, 0));
        }
        o = o.withAioMaxBatch(Long.getLong("aiolos.aioMaxBatch", 0L));
        try (Arena arena = Arena.ofShared()) {
            AiolosContext ctx = Aiolos.newContext(o);
            ctx.poll(false);
            long stride = 0;
            if (p.length > 3) {
                if (!p[3].startsWith("stride=")) {
                    throw new IllegalArgumentException("unknown pattern '" + p[3] + "' (stride=BLOCKS)");
                }
                stride = Long.parseLong(p[3].substring("stride=".length()));
                if (stride <= 0) {
                    throw new IllegalArgumentException("stride must be at least one block: " + p[3]);
                }
            }
            DiskEngineBench b = new DiskEngineBench(ctx, file, size, p[1].equals("randwrite"),
                    Integer.parseInt(p[2]), stride, arena);
            System.out.println("ready");
            System.out.flush();
            java.io.BufferedReader in = new java.io.BufferedReader(
                    new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.US_ASCII));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                long[] r = b.round((long) (Double.parseDouble(line.trim()) * 1e9));
                // The engine's name is known once it served (a fallback may have replaced it).
                System.out.println(r[0] + " " + r[1] + " " + r[2] + " " + ctx.diskEngineName());
                System.out.flush();
            }
            ctx.close();
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 3 && args[1].equals("--serve")) {
            int fd = Files.open(args[0], Files.O_RDWR | Files.O_DIRECT, 0);
            try {
                serve(Files.diskFile(fd), Files.size(fd), args[2]);
            } finally {
                Fds.close(fd);
            }
            return;
        }
        if (args.length < 3) {
            System.err.println("usage: DiskEngineBench FILE SECONDS ENGINE:RW:QD ...");
            System.exit(2);
        }
        String path = args[0];
        long seconds = Long.parseLong(args[1]);
        int fd = Files.open(path, Files.O_RDWR | Files.O_DIRECT, 0);
        try {
            DiskFile file = Files.diskFile(fd);
            long size = Files.size(fd);
            for (int i = 2; i < args.length; i++) {
                String[] p = args[i].split(":");
                String engineName = p[0];
                boolean write = p[1].equals("randwrite");
                int qd = Integer.parseInt(p[2]);
                try (Arena arena = Arena.ofShared()) {
                    ContextOptions o = ContextOptions.ioThreadDefaults("bench-" + engineName)
                            .withDiskEngine(engineName).withFdMonitor(System.getProperty("aiolos.fdmon"));
                    String pollNs = System.getProperty("aiolos.pollMaxNs");
                    if (pollNs != null) {
                        o = o.withPollParams(new PollParams(Long.parseLong(pollNs), 0, 0));
                    }
                    AiolosContext ctx = Aiolos.newContext(o);
                    ctx.poll(false);
                    DiskEngineBench b = new DiskEngineBench(ctx, file, size, write, qd, 0, arena);
                    for (int s = 0; s < qd; s++) {
                        b.submit(s);
                    }
                    b.run(1_000_000_000L);
                    long t0 = System.nanoTime();
                    long n = b.run(seconds * 1_000_000_000L);
                    double secs = (System.nanoTime() - t0) / 1e9;
                    b.drain();
                    String actual = ctx.diskEngineName();
                    ctx.close();
                    double iops = n / secs;
                    System.out.printf(Locale.ROOT, "%s %s %d %.0f %.1f%s%n", actual, p[1], qd, iops,
                            qd / iops * 1e6, b.errors == 0 ? "" : " errors=" + b.errors);
                }
            }
        } finally {
            Fds.close(fd);
        }
    }
}
