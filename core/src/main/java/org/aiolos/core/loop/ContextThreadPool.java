package org.aiolos.core.loop;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import org.aiolos.api.AioContext;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.threadpool.PoolRequest;
import org.aiolos.api.threadpool.ThreadPool;
import org.aiolos.api.threadpool.ThreadPoolFactory;
import org.aiolos.core.BackendProviders;
import org.aiolos.core.ThreadPoolProviders;

/**
 * A context's thread pool as its users see it ({@link AioContext#threadPool()}, QEMU
 * {@code aio_get_thread_pool}): it opens a pool from the best provider at the first
 * submission and routes every submission to the current pool.
 *
 * <p><b>Swap.</b> When the providers change (a better one registers, or the current one
 * goes away), the current pool is retired: new submissions open and use the new choice,
 * while the retired pool keeps its queued and running work and delivers those
 * completions; it is closed in the home thread once its last completion has returned. So
 * no completion is lost or delivered twice because of a swap.
 *
 * <p><b>Threads.</b> The routing state is guarded by this object's monitor; pools are
 * closed outside it, in the home thread (the retire bottom half, or the last completion
 * of a retired pool), or by the context's close.
 */
final class ContextThreadPool implements ThreadPool {
    private static final System.Logger LOG = System.getLogger("org.aiolos.core");

    /** A pool and the submissions made through this view whose completion has not returned. */
    private static final class Backend {
        final ThreadPoolFactory factory;
        final ThreadPool pool;
        int outstanding;
        boolean retired;

        Backend(ThreadPoolFactory factory, ThreadPool pool) {
            this.factory = factory;
            this.pool = pool;
        }
    }

    private final ContextImpl ctx;
    private final String configured;
    private final ThreadPoolProviders providers;
    private final Runnable listener = this::providersChanged;
    /** Set by provider changes (any thread); the next submission or the retire BH acts on it. */
    private volatile boolean reconsider;

    // ---- guarded by this
    private Backend current;
    private final List<Backend> retired = new ArrayList<>();
    private BottomHalf retireBh;
    private boolean closing;

    ContextThreadPool(ContextImpl ctx, String configured, ThreadPoolProviders providers) {
        this.ctx = ctx;
        this.configured = configured;
        this.providers = providers;
        providers.addListener(listener);
    }

    @Override
    public AioContext context() {
        return ctx;
    }

    // =====================================================================================
    // submit

    @Override
    public <T> PoolRequest submit(Callable<T> work, Completion<? super T> completion) {
        Objects.requireNonNull(work, "work");
        Objects.requireNonNull(completion, "completion");
        synchronized (this) {
            Backend b = currentLocked();
            b.outstanding++;
            try {
                return b.pool.submit(work, (T result, Throwable failure) -> {
                    try {
                        completion.complete(result, failure);
                    } finally {
                        completed(b);
                    }
                });
            } catch (RuntimeException | Error e) {
                b.outstanding--;
                throw e;
            }
        }
    }

    private Backend currentLocked() {
        if (closing || ctx.isClosed()) {
            throw new IllegalStateException("submit: AioContext '" + ctx.name() + "' is "
                    + (ctx.isClosed() ? "closed" : "closing") + "; its thread pool takes no more work");
        }
        if (reconsider) {
            reconsider = false;
            reselectLocked();
        }
        if (current == null) {
            BackendProviders.Provider<ThreadPoolFactory> p = choose();
            if (p == null) {
                throw new IllegalStateException("AioContext '" + ctx.name() + "': no thread-pool provider is available"
                        + (configured == null ? "" : " named '" + configured + "'")
                        + "; install or start one (such as org.aiolos.threadpool) and submit again");
            }
            ThreadPool pool;
            try {
                pool = p.factory().open(ctx);
            } catch (RuntimeException e) {
                throw new IllegalStateException("AioContext '" + ctx.name() + "': thread-pool provider '" + p.name()
                        + "' failed to open a pool: " + e.getMessage(), e);
            }
            current = new Backend(p.factory(), pool);
        }
        return current;
    }

    private BackendProviders.Provider<ThreadPoolFactory> choose() {
        return configured == null ? providers.best() : providers.best(configured);
    }

    /** Retires the current pool if it is no longer the choice; the next submission opens the new one. */
    private void reselectLocked() {
        if (current == null) {
            return;
        }
        BackendProviders.Provider<ThreadPoolFactory> p = choose();
        if (p == null || p.factory() != current.factory) {
            Backend old = current;
            current = null;
            old.retired = true;
            retired.add(old);
            LOG.log(System.Logger.Level.INFO, "AioContext ''{0}'': the thread pool of provider ''{1}'' is retired "
                    + "({2}); it closes once its {3} in-flight requests have completed", ctx.name(), old.factory.name(),
                    p == null ? "provider gone, no other available" : "now " + p.name(), old.outstanding);
            scheduleRetireLocked();
        }
    }

    private void providersChanged() {
        reconsider = true;
        synchronized (this) {
            if (current != null) {
                scheduleRetireLocked(); // act in the home thread even if nothing is submitted
            }
        }
    }

    private void scheduleRetireLocked() {
        if (closing) {
            return; // closeAll closes every pool; a BH now would make the context's close refuse
        }
        try {
            if (retireBh == null || retireBh.isDeleted()) {
                retireBh = ctx.newBottomHalf("thread-pool-retire", this::retireDrained);
            }
            retireBh.schedule();
        } catch (IllegalStateException e) {
            // The context closed meanwhile; its close closed every pool.
        }
    }

    /** Home thread: applies a provider change and closes retired pools that have drained. */
    private void retireDrained() {
        List<Backend> drained = new ArrayList<>();
        synchronized (this) {
            if (reconsider) {
                reconsider = false;
                reselectLocked();
            }
            for (Iterator<Backend> it = retired.iterator(); it.hasNext(); ) {
                Backend b = it.next();
                if (b.outstanding == 0) {
                    it.remove();
                    drained.add(b);
                }
            }
        }
        drained.forEach(this::closeBackend);
    }

    /** Home thread, after a completion returned. */
    private void completed(Backend b) {
        boolean close;
        synchronized (this) {
            b.outstanding--;
            close = b.retired && b.outstanding == 0 && retired.remove(b);
        }
        if (close) {
            closeBackend(b); // from inside its own last completion; pools allow that
        }
    }

    private void closeBackend(Backend b) {
        try {
            b.pool.close();
        } catch (RuntimeException | Error e) {
            ctx.runner.report(b.pool, e);
        }
    }

    // =====================================================================================
    // parameters and counters

    /** Changes the context's bounds, which then reach every live pool. */
    @Override
    public void updateParams(int min, int max) {
        ctx.setThreadPoolParams(min, max);
    }

    /** Called by the context after its bounds changed (already validated). */
    synchronized void paramsChanged(int min, int max) {
        if (current != null) {
            current.pool.updateParams(min, max);
        }
        for (Backend b : retired) {
            b.pool.updateParams(min, max);
        }
    }

    @Override
    public synchronized int threadCount() {
        int n = current == null ? 0 : current.pool.threadCount();
        for (Backend b : retired) {
            n += b.pool.threadCount();
        }
        return n;
    }

    @Override
    public synchronized int inFlight() {
        int n = current == null ? 0 : current.outstanding;
        for (Backend b : retired) {
            n += b.outstanding;
        }
        return n;
    }

    /** How many pools are open (the current one and retired ones still draining); for tests and diagnostics. */
    synchronized int openPools() {
        return (current == null ? 0 : 1) + retired.size();
    }

    /** The provider of the current pool, or null before the first submission. */
    synchronized String providerName() {
        return current == null ? null : current.factory.name();
    }

    // =====================================================================================
    // close

    /** The context owns this view; the pools end with the context. */
    @Override
    public void close() {
        throw new UnsupportedOperationException("the thread pool of AioContext '" + ctx.name()
                + "' belongs to the context and closes with it");
    }

    /**
     * The context is closing: closes every pool (queued work completes as cancelled,
     * running work is waited for, every completion runs in this thread). Submissions fail
     * from now on, and provider changes schedule nothing, until {@link #closeRefused()}
     * (the context stays open; the next submission opens a new pool) or
     * {@link #dispose()} (it closed).
     */
    void closeAll() {
        List<Backend> all = new ArrayList<>();
        synchronized (this) {
            closing = true;
            if (current != null) {
                all.add(current);
                current = null;
            }
            all.addAll(retired);
            retired.clear();
            if (retireBh != null) {
                retireBh.delete();
                retireBh = null;
            }
        }
        all.forEach(this::closeBackend);
    }

    /** The context refused to close after {@link #closeAll()}: take work again. */
    synchronized void closeRefused() {
        closing = false;
    }

    /** The context has closed: stop following the providers. */
    void dispose() {
        providers.removeListener(listener);
    }

    @Override
    public String toString() {
        return "thread pool of AioContext '" + ctx.name() + "'";
    }
}
