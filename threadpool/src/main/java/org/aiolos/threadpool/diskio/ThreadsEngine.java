package org.aiolos.threadpool.diskio;

import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.aiolos.api.AioContext;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.api.threadpool.ThreadPool;
import org.aiolos.linux.Errno;
import org.aiolos.linux.Files;
import org.aiolos.linux.SyscallException;
import org.aiolos.diskio.DiskEngineBase;
import org.aiolos.diskio.DiskRequest;
import org.aiolos.diskio.DiskRequestPool;
import org.aiolos.threadpool.WorkerPoolFactory;

/**
 * The {@code threads} engine: each request is one job on a worker pool, which performs the
 * blocking system calls and loops over short transfers itself (the same
 * {@link DiskRequest} rules as the kernel-queue engines); the pool's completion bottom
 * half delivers the result in the home thread.
 *
 * <p><b>Its own workers.</b> QEMU's {@code aio=threads} shares the context's pool
 * ({@code aio_get_thread_pool}). Here the engine opens a pool of its own (with the
 * context's {@code thread-pool-min}/{@code thread-pool-max}, followed when they change)
 * and closes it with itself, so
 * it is one self-contained backend: when its bundle stops, the engine drains on workers of
 * its own bundle and closes before the bundle's classes go, whichever thread-pool
 * provider the context has meanwhile (a retiring engine that needed the context's pool
 * would wait for a pool provider that its own bundle's stop is holding up).
 *
 * <p>There is no kernel queue to batch for: each request is handed to the pool when it is
 * submitted, a batch of one, so aio-max-batch is trivially respected. FUA writes are
 * {@code pwritev} followed by {@code fdatasync} on the same worker (the {@code linux}
 * module has no {@code pwritev2}), which gives the same durability as {@code RWF_DSYNC}.
 *
 * <p>The request pool is touched by the home thread only; a request travels to a worker
 * and back through the thread pool's queue and completion list, which order the accesses.
 */
public final class ThreadsEngine extends DiskEngineBase {
    /** Requests accepted at once. */
    static final int CAPACITY = 4096;

    private final ThreadPool pool;
    /** Jobs a worker has not finished: what close() waits for when it cannot run the loop. */
    private final AtomicInteger running = new AtomicInteger();

    ThreadsEngine(AioContext ctx) {
        super(ctx, CAPACITY);
        this.pool = new WorkerPoolFactory().open(ctx);
    }

    @Override
    public String name() {
        return DiskIoEngineFactory.THREADS;
    }

    /** Its own workers follow the context's bounds, as the context's pool does. */
    @Override
    public void threadPoolParamsChanged(int min, int max) {
        pool.updateParams(min, max);
    }

    @Override
    protected void start(DiskRequest r) {
        running.incrementAndGet();
        try {
            pool.submit(() -> perform(r), (Long result, Throwable failure) -> done(r, result, failure));
        } catch (RuntimeException e) {
            running.decrementAndGet();
            requests.release(r);
            throw e;
        }
    }

    /** On a worker: the system calls, repeated until the request is finished. */
    private Long perform(DiskRequest r) {
        try {
            while (!r.onResult(syscall(r))) {
                // a short transfer or EINTR/EAGAIN: the request now describes the remainder
            }
            long res = r.result();
            if (r.kind() == DiskRequest.Kind.WRITE && r.fua() && res >= 0) {
                try {
                    Files.fdatasync(r.fd());
                } catch (SyscallException e) {
                    res = -e.errno();
                }
            }
            return res;
        } finally {
            running.decrementAndGet();
        }
    }

    private static long syscall(DiskRequest r) {
        try {
            return switch (r.kind()) {
                case READ -> Files.preadv(r.fd(), r.iovAddress(), r.iovCount(), r.position());
                case WRITE -> Files.pwritev(r.fd(), r.iovAddress(), r.iovCount(), r.position());
                case FLUSH -> {
                    Files.fdatasync(r.fd());
                    yield 0L;
                }
            };
        } catch (SyscallException e) {
            return -e.errno();
        }
    }

    /** In the home thread, from the pool's completion bottom half. */
    private void done(DiskRequest r, Long result, Throwable failure) {
        if (failure != null) {
            // Cancelled before a worker took it (the pool closed), or an unexpected error.
            r.fail(failure instanceof CancellationException ? Errno.ECANCELED : Errno.EIO);
        } else if (result != r.result()) {
            r.fail((int) -result); // the FUA flush failed
        }
        DiskRequestPool.rethrow(requests.finish(r, null));
    }

    @Override
    public int inFlight() {
        return requests.inUse();
    }

    /**
     * Stops accepting requests and waits for those in flight: in the home thread the loop
     * runs until every completion has run; from another thread (the context's close after
     * its loop stopped) the workers finish and the pool's close runs the completions here.
     * Then the engine's pool closes.
     */
    @Override
    public void close() {
        if (isClosed()) {
            return;
        }
        markClosed();
        try {
            if (ctx.inHomeThread()) {
                while (requests.inUse() > 0) {
                    ctx.poll(true);
                }
            } else {
                while (running.get() > 0) {
                    Thread.onSpinWait();
                }
            }
        } finally {
            try {
                pool.close();
            } finally {
                requests.close();
            }
        }
    }
}
