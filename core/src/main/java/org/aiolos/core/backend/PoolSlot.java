package org.aiolos.core.backend;

import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import org.aiolos.api.AioContext;
import org.aiolos.api.threadpool.PoolRequest;
import org.aiolos.api.threadpool.ThreadPool;
import org.aiolos.api.threadpool.ThreadPoolFactory;
import org.aiolos.core.ThreadPoolProviders;

/**
 * A context's thread pool as its users see it ({@link AioContext#threadPool()}, QEMU
 * {@code aio_get_thread_pool}): one pool opened from the chosen provider at the first
 * submission, swapped by the {@link BackendSlot} life cycle. A retired pool keeps its
 * queued and running work and delivers those completions, and is closed at a safe point
 * once it has none; submissions made while no provider is available wait for one
 * ({@link WorkSlot}).
 *
 * <p><b>Threads.</b> Submissions come from any thread and hold this object's monitor
 * while they reach the pool, so a pool is never closed between a submission choosing it
 * and the submission arriving.
 */
public final class PoolSlot extends WorkSlot<ThreadPoolFactory, ThreadPool, PoolSlot.HeldJob<?>>
        implements ThreadPool {

    /** A submission waiting for a pool; its handle until it reaches one. */
    static final class HeldJob<T> implements PoolRequest {
        private final PoolSlot slot;
        final Callable<T> work;
        final Completion<? super T> completion;
        /** Guarded by this. */
        private PoolRequest delegate;
        private boolean over;
        /** The completion ran here (cancelled or failed while held). */
        private volatile boolean done;

        HeldJob(PoolSlot slot, Callable<T> work, Completion<? super T> completion) {
            this.slot = slot;
            this.work = work;
            this.completion = completion;
        }

        @Override
        public boolean cancel() {
            synchronized (this) {
                if (delegate != null) {
                    return delegate.cancel();
                }
                if (over) {
                    return false;
                }
                over = true;
            }
            slot.withdraw(this);
            // Completions run in the home thread, never inside the call that caused them.
            slot.host.context().scheduleOneshot("cancelled thread-pool request", () -> {
                try {
                    completion.complete(null,
                            new CancellationException("cancelled while waiting for a thread-pool provider"));
                } finally {
                    done = true;
                }
            });
            return true;
        }

        @Override
        public synchronized boolean isDone() {
            return delegate != null ? delegate.isDone() : done;
        }

        @Override
        public AioContext context() {
            return slot.host.context();
        }

        synchronized void forward(ThreadPool pool) {
            if (!over) {
                delegate = pool.submit(work, completion);
            }
        }

        /** As the pool's own close does: cancelled when the context closes, else the reason. */
        void fail(String why, boolean closing) {
            synchronized (this) {
                if (over || delegate != null) {
                    return;
                }
                over = true;
            }
            try {
                completion.complete(null, closing ? new CancellationException(why) : new IllegalStateException(why));
            } finally {
                done = true;
            }
        }
    }

    private final AioContext ctx;

    public PoolSlot(SlotHost host, String configured, ThreadPoolProviders providers) {
        super(host, "thread-pool", "AioContext '" + host.context().name() + "'", providers, configured);
        this.ctx = host.context();
    }

    @Override
    public AioContext context() {
        return ctx;
    }

    @Override
    public synchronized <T> PoolRequest submit(Callable<T> work, Completion<? super T> completion) {
        Objects.requireNonNull(work, "work");
        Objects.requireNonNull(completion, "completion");
        ThreadPool pool = backendForWork();
        if (pool != null) {
            return pool.submit(work, completion);
        }
        HeldJob<T> job = new HeldJob<>(this, work, completion);
        hold(job);
        return job;
    }

    @Override
    protected int inFlight(ThreadPool pool) {
        return pool.inFlight();
    }

    @Override
    protected void closeBackend(ThreadPool pool) {
        pool.close();
    }

    @Override
    protected void submit(ThreadPool pool, HeldJob<?> job) {
        job.forward(pool);
    }

    @Override
    protected void fail(HeldJob<?> job, String why, boolean closing) {
        job.fail(why, closing);
    }

    // =====================================================================================
    // parameters and counters

    /** Changes the context's bounds, which then reach every live pool. */
    @Override
    public void updateParams(int min, int max) {
        ctx.setThreadPoolParams(min, max);
    }

    /** Called by the context after its bounds changed (already validated). */
    public synchronized void paramsChanged(int min, int max) {
        forEachOpen(pool -> pool.updateParams(min, max));
    }

    @Override
    public synchronized int threadCount() {
        int[] n = {0};
        forEachOpen(pool -> n[0] += pool.threadCount());
        return n[0];
    }

    @Override
    public synchronized int inFlight() {
        Opened<ThreadPoolFactory, ThreadPool> o = current;
        return (o == null ? 0 : o.backend().inFlight()) + inFlightRetiring() + waiting();
    }

    /** How many pools are open (the current one and retired ones still draining). */
    public synchronized int openPools() {
        return (current == null ? 0 : 1) + draining();
    }

    /** The context owns this view; the pools end with the context. */
    @Override
    public void close() {
        throw new UnsupportedOperationException("the thread pool of AioContext '" + ctx.name()
                + "' belongs to the context and closes with it");
    }

    @Override
    public String toString() {
        return "thread pool of AioContext '" + ctx.name() + "'";
    }
}
