package org.aiolos.itests;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.api.diskio.DiskFile;

/**
 * Thread-pool work and disk I/O on one context, driven from its home thread: up to
 * {@value #DEPTH} of each in flight, topped up on every completion and by a 1 ms timer.
 * A submission refused because no provider is running (its bundle is stopped) is counted
 * and tried again; every accepted one must complete exactly once, successfully.
 */
final class PoolDiskLoad implements AutoCloseable {
    private static final int DEPTH = 8;
    private static final int BLOCK = 4096;

    private final AioContext ctx;
    private final Path path;
    private final int fd;
    private final DiskFile file;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment[][] buffers = new MemorySegment[DEPTH][];
    private final AioTimer refill;
    private volatile boolean running = true;
    // home thread
    private int poolOwn;
    private int diskOwn;
    private long diskSeq;
    final AtomicLong poolAccepted = new AtomicLong();
    final AtomicLong poolCompleted = new AtomicLong();
    final AtomicLong poolFailed = new AtomicLong();
    final AtomicLong poolRefused = new AtomicLong();
    final AtomicLong diskAccepted = new AtomicLong();
    final AtomicLong diskCompleted = new AtomicLong();
    final AtomicLong diskFailed = new AtomicLong();
    final AtomicLong diskRefused = new AtomicLong();

    PoolDiskLoad(AioContext ctx) throws Exception {
        this.ctx = ctx;
        this.path = Files.createTempFile("aiolos-itest-", ".img");
        this.fd = org.aiolos.linux.Files.open(path.toString(),
                org.aiolos.linux.Files.O_RDWR | org.aiolos.linux.Files.O_CLOEXEC, 0);
        org.aiolos.linux.Files.ftruncate(fd, (long) DEPTH * BLOCK);
        this.file = DiskFile.buffered(fd);
        for (int i = 0; i < DEPTH; i++) {
            buffers[i] = new MemorySegment[] {arena.allocate(BLOCK, BLOCK)};
        }
        refill = ctx.newTimer(ClockType.REALTIME, TimeScale.MS, this::tick);
        ctx.scheduleOneshot("pool-disk-load-start", this::tick);
    }

    private void tick() {
        topUp();
        if (running) {
            refill.mod(ctx.clocks().now(ClockType.REALTIME, TimeScale.MS) + 1);
        }
    }

    private void topUp() {
        while (running && poolOwn < DEPTH && submitPool()) {
            poolOwn++;
        }
        while (running && diskOwn < DEPTH && submitDisk()) {
            diskOwn++;
        }
    }

    private boolean submitPool() {
        try {
            ctx.threadPool().submit(() -> {
                Thread.sleep(0, 50_000);
                return 42;
            }, (Integer r, Throwable failure) -> {
                poolOwn--;
                poolCompleted.incrementAndGet();
                if (failure != null || r == null || r != 42) {
                    poolFailed.incrementAndGet();
                }
                topUp();
            });
            poolAccepted.incrementAndGet();
            return true;
        } catch (IllegalStateException noProvider) {
            poolRefused.incrementAndGet();
            return false;
        }
    }

    private boolean submitDisk() {
        int slot = (int) (diskSeq % DEPTH);
        boolean write = (diskSeq / DEPTH) % 2 == 0;
        try {
            DiskCompletion done = result -> {
                diskOwn--;
                diskCompleted.incrementAndGet();
                if (result != BLOCK) {
                    diskFailed.incrementAndGet();
                }
                topUp();
            };
            if (write) {
                ctx.diskIo().writev(file, (long) slot * BLOCK, buffers[slot], false, done::complete);
            } else {
                ctx.diskIo().readv(file, (long) slot * BLOCK, buffers[slot], done::complete);
            }
            diskSeq++;
            diskAccepted.incrementAndGet();
            return true;
        } catch (IllegalStateException noEngine) {
            diskRefused.incrementAndGet();
            return false;
        }
    }

    @FunctionalInterface
    private interface DiskCompletion {
        void complete(long result);
    }

    /** Stops submitting and waits until every accepted request has completed. */
    void finish(long timeoutMs) throws InterruptedException {
        running = false;
        Await.until(() -> ctx.name() + ": accepted requests completing (pool " + poolCompleted + "/" + poolAccepted
                + ", disk " + diskCompleted + "/" + diskAccepted + ")", timeoutMs,
                () -> poolCompleted.get() == poolAccepted.get() && diskCompleted.get() == diskAccepted.get());
    }

    String report() {
        return String.format("pool %,d accepted = completed (%d refused while no pool bundle ran), disk %,d accepted"
                        + " = completed (%d refused)", poolAccepted.get(), poolRefused.get(), diskAccepted.get(),
                diskRefused.get());
    }

    @Override
    public void close() throws Exception {
        finish(10_000);
        CountDownLatch cancelled = new CountDownLatch(1);
        ctx.scheduleOneshot("pool-disk-load-close", () -> {
            refill.cancel();
            cancelled.countDown();
        });
        cancelled.await(5, TimeUnit.SECONDS);
        org.aiolos.linux.Fds.close(fd);
        Files.deleteIfExists(path);
        arena.close();
    }
}
