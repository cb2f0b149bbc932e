package org.aiolos.itests;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.aiolos.api.AioContext;
import org.aiolos.linux.Errno;
import org.aiolos.linux.Fds;

/**
 * fd traffic on one context: a writer thread pushes bytes into a few pipes, the
 * context's handlers read them. Every byte written must be read exactly once; a
 * dispatch that finds nothing to read (a duplicate or stale event) is counted.
 */
final class PipeLoad implements AutoCloseable {
    private static final int PIPES = 4;
    private final AioContext ctx;
    private final int[][] pipes = new int[PIPES][];
    private final Arena arena = Arena.ofShared();
    private final MemorySegment readBuf = arena.allocate(4096);
    private final MemorySegment writeBuf = arena.allocate(64);
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong read = new AtomicLong();
    private final AtomicLong emptyDispatches = new AtomicLong();
    private volatile boolean running = true;
    private final Thread writer;

    PipeLoad(AioContext ctx) {
        this.ctx = ctx;
        for (int i = 0; i < PIPES; i++) {
            int[] p = Fds.pipe();
            pipes[i] = p;
            ctx.setFdHandler(p[0], () -> drain(p[0]), null);
        }
        writer = Thread.ofPlatform().name("pipe-load-" + ctx.name()).start(this::write);
    }

    private void drain(int fd) {
        int n = Fds.read(fd, readBuf, readBuf.byteSize());
        if (n > 0) {
            read.addAndGet(n);
        } else if (n == -Errno.EAGAIN) {
            emptyDispatches.incrementAndGet();
        }
    }

    private void write() {
        long i = 0;
        while (running) {
            int fd = pipes[(int) (i++ % PIPES)][1];
            int n = Fds.write(fd, writeBuf, 1 + (int) (i % 64));
            if (n > 0) {
                written.addAndGet(n);
            }
            if (i % 64 == 0) {
                Thread.onSpinWait();
                try {
                    Thread.sleep(0, 200_000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** Stops writing and waits until every written byte has been read. */
    long[] finish(long timeoutMs) throws InterruptedException {
        running = false;
        writer.join();
        Await.until("every written byte read on " + ctx.name() + " (written " + written.get() + ")", timeoutMs,
                () -> read.get() == written.get());
        return new long[] {written.get(), read.get(), emptyDispatches.get()};
    }

    long written() {
        return written.get();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        writer.join();
        for (int[] p : pipes) {
            ctx.removeFdHandler(p[0]);
        }
        CountDownLatch passed = new CountDownLatch(1);
        ctx.scheduleOneshot("pipe-load-close", passed::countDown);
        passed.await(5, TimeUnit.SECONDS); // the loop has retired the handlers
        for (int[] p : pipes) {
            Fds.close(p[0]);
            Fds.close(p[1]);
        }
        arena.close();
    }
}
