package org.aiolos.threadpool;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.api.threadpool.PoolRequest;
import org.aiolos.api.threadpool.ThreadPool;

/**
 * QEMU's {@code ThreadPoolAio} ({@code util/thread-pool.c}): a FIFO of requests served by
 * platform worker
 * threads, completions delivered in the context's home thread by {@link Completions}.
 *
 * <p><b>Workers.</b> A submission that finds no idle worker while fewer than {@code max}
 * exist adds one to the backlog ({@code cur++}, {@code newThreads++}); the backlog is
 * started one thread at a time: the first by a bottom half in the home thread (so workers
 * inherit the loop thread's affinity, not a vCPU's), each next one by the worker that
 * just started. A worker without work for the idle timeout leaves if more than
 * {@code min} exist; a worker finding more than {@code max} workers leaves after its
 * current request.
 *
 * <p><b>Thread creation failing.</b> If a worker cannot be started (typically
 * {@code OutOfMemoryError: unable to create native thread}), it stays in the backlog and
 * queued work stays queued; the first failure of a run of failures is logged, and the
 * start is retried by the next submission and by a retry timer (backing off from
 * {@value #RETRY_MIN_MS} ms to {@value #RETRY_MAX_MS} ms), so once threads can start
 * again every queued request runs.
 *
 * <p><b>Locking.</b> {@link #lock} guards the queue, the counters, the idle workers and the
 * QUEUED exit of every request; work runs and completions are pushed without it.
 *
 * <p><b>Waking a worker.</b> An idle worker waits on its own entry of {@link IdleWorkers},
 * and a submission pops the most recently idled one (its caches are the warmest) and unparks
 * that thread after releasing the lock: each submission of a burst wakes its own worker
 * at once, as QEMU's {@code qemu_sem_post} / {@code qemu_cond_signal} after the unlock do.
 * A {@link Condition} does not: its signal only moves the waiter to the lock's queue, and
 * the lock wakes one queued thread per release, so a burst of submissions woke its workers
 * one after another, each waiting for the previous one to be scheduled, run and let go of
 * the lock. Against that design, 4 KiB O_DIRECT reads at QD32 through the {@code threads}
 * engine ran at 1.25x and 1.09x (every round ahead, two runs) at 0.83-0.85x the CPU per
 * request (docs/benchmarks.md).
 */
final class WorkerPool implements ThreadPool {
    private static final System.Logger LOG = System.getLogger("org.aiolos.threadpool");
    static final long RETRY_MIN_MS = 10;
    static final long RETRY_MAX_MS = 1000;

    /** Creates and starts a worker thread (a test seam: tests make it fail). */
    @FunctionalInterface
    interface ThreadStarter {
        Thread start(String name, Runnable body);
    }

    /** Daemon platform threads. */
    static final ThreadStarter PLATFORM = (name, body) -> Thread.ofPlatform().name(name).daemon(true).start(body);

    private final AioContext ctx;
    private final String threadPrefix;
    private final long idleNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workerStopped = lock.newCondition();
    private final RequestQueue queue = new RequestQueue();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Completions completions;
    private final BottomHalf newThreadBh;
    private final ThreadStarter starter;
    /** Retries a failed worker start (armed from any thread; fires in the home thread). */
    private final AioTimer retryTimer;

    // ---- under lock
    private long seq;
    /** Workers counted: running, idle, started but not yet running (pending), or in the backlog (newThreads). */
    private int cur;
    private final IdleWorkers idleWorkers = new IdleWorkers();
    private int newThreads;
    private int pending;
    private int min;
    private int max;
    private int threadSeq;
    private boolean closing;
    /** Worker starts failing since the last success (0: creation works). */
    private long startFailures;
    private long retryDelayMs = RETRY_MIN_MS;
    /** Threads started and maybe still alive; close joins them. */
    private final List<Thread> started = new ArrayList<>();

    // ---- close
    private final Object closeMonitor = new Object();
    private boolean closeStarted;

    WorkerPool(AioContext ctx, Duration idleTimeout) {
        this(ctx, idleTimeout, PLATFORM);
    }

    WorkerPool(AioContext ctx, Duration idleTimeout, ThreadStarter starter) {
        this.ctx = Objects.requireNonNull(ctx, "ctx");
        this.starter = Objects.requireNonNull(starter, "starter");
        this.threadPrefix = "aiolos-pool-" + ctx.name() + "-";
        this.idleNanos = idleTimeout.toNanos();
        this.completions = new Completions(ctx, inFlight::decrementAndGet);
        this.newThreadBh = ctx.newBottomHalf("thread-pool-new-thread", this::spawnFromBh);
        this.retryTimer = ctx.newTimer(ClockType.REALTIME, TimeScale.MS, this::spawnFromBh);
        lock.lock();
        try {
            min = ctx.threadPoolMin();
            max = ctx.threadPoolMax();
            applyParamsLocked(); // as QEMU: min > 0 pre-spawns at creation
        } finally {
            lock.unlock();
        }
    }

    @Override
    public AioContext context() {
        return ctx;
    }

    // =====================================================================================
    // submit and cancel (thread_pool_submit_aio, thread_pool_cancel)

    @Override
    public <T> PoolRequest submit(Callable<T> work, Completion<? super T> completion) {
        Objects.requireNonNull(work, "work");
        Objects.requireNonNull(completion, "completion");
        Request<T> r;
        IdleWorkers.Entry woken;
        lock.lock();
        try {
            if (closing) {
                throw new IllegalStateException("the thread pool of AioContext '" + ctx.name() + "' is closed");
            }
            r = new Request<>(this, ++seq, work, completion);
            inFlight.incrementAndGet();
            // Popped workers count as idle until they run, as QEMU's idle_threads: a burst of
            // submissions while they wake starts no thread.
            if (idleWorkers.idleOrWaking() == 0 && cur < max) {
                spawnLocked();
            } else if (startFailures > 0 && pending == 0 && newThreads > 0) {
                newThreadBh.schedule(); // creation failed before: retry now rather than at the timer
            }
            queue.add(r);
            woken = idleWorkers.pop();
        } finally {
            lock.unlock();
        }
        if (woken != null) {
            LockSupport.unpark(woken.thread); // after the unlock: the worker finds the lock free
        }
        return r;
    }

    boolean cancel(Request<?> r) {
        lock.lock();
        try {
            if (!queue.cancelIfQueued(r, "cancelled before a worker started it")) {
                return false; // running or done: it completes with its real outcome
            }
            // Under the lock: close takes it before it drains, so it sees this push and
            // deletes the bottom half only after this schedule.
            completions.finished(r);
            return true;
        } finally {
            lock.unlock();
        }
    }

    // =====================================================================================
    // workers (spawn_thread_bh_fn, worker_thread)

    /** cur++ and one more in the backlog; the home thread starts the first of a chain. */
    private void spawnLocked() {
        cur++;
        newThreads++;
        if (pending == 0) {
            newThreadBh.schedule();
        }
    }

    private void spawnFromBh() {
        lock.lock();
        try {
            startNextLocked();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Starts one backlog thread, if any (QEMU do_spawn_thread). If the thread cannot be
     * created it stays in the backlog: the failure is logged (once per run of failures)
     * and the retry timer armed; queued work waits for a worker.
     */
    private void startNextLocked() {
        if (newThreads == 0 || closing) {
            return;
        }
        newThreads--;
        pending++;
        Thread t;
        try {
            t = starter.start(threadPrefix + (++threadSeq), this::workerMain);
        } catch (Throwable e) {
            pending--;
            newThreads++;
            startFailedLocked(e);
            return;
        }
        started.removeIf(x -> !x.isAlive());
        started.add(t);
        if (startFailures > 0) {
            long failures = startFailures;
            startFailures = 0;
            retryDelayMs = RETRY_MIN_MS;
            retryTimer.cancel();
            LOG.log(System.Logger.Level.INFO, () -> this + ": worker threads start again (after " + failures
                    + " failed attempt(s))");
        }
    }

    private void startFailedLocked(Throwable e) {
        if (startFailures++ == 0) {
            LOG.log(System.Logger.Level.WARNING, () -> this + ": cannot start a worker thread; queued work waits "
                    + "and the start is retried", e);
        }
        retryTimer.modNs(ctx.clocks().nowNs(ClockType.REALTIME) + retryDelayMs * 1_000_000L);
        retryDelayMs = Math.min(RETRY_MAX_MS, retryDelayMs * 2);
    }

    private void workerMain() {
        IdleWorkers.Entry me = new IdleWorkers.Entry(Thread.currentThread());
        IdleWorkers.Entry next = null;
        lock.lock();
        try {
            pending--;
            startNextLocked(); // the chain: each new worker starts the next one
            serveLocked(me);
        } finally {
            cur--;
            workerStopped.signalAll();
            // Pass on a wake-up this thread may have taken while deciding to leave.
            if (!queue.isEmpty()) {
                next = idleWorkers.pop();
            }
            lock.unlock();
        }
        if (next != null) {
            LockSupport.unpark(next.thread);
        }
    }

    /** The worker loop; returns with the lock held when this worker should leave. */
    private void serveLocked(IdleWorkers.Entry me) {
        while (cur <= max) {
            if (queue.isEmpty()) {
                boolean woken = idleWorkers.await(me, lock, idleNanos);
                if (!woken && queue.isEmpty() && cur > min) {
                    return; // idle for the whole timeout, and not needed warm
                }
                continue; // even with work, re-check the bounds first
            }
            Request<?> r = queue.claim();
            lock.unlock();
            try {
                r.run();
                completions.finished(r);
            } catch (RuntimeException e) {
                // Only a closed context gets here (its pool was not closed first): nobody
                // can run the completion any more.
                LOG.log(System.Logger.Level.WARNING, () -> "thread pool of AioContext '" + ctx.name()
                        + "': completion of " + r + " dropped", e);
            } finally {
                Thread.interrupted(); // one job's interrupt must not reach the next
                lock.lock();
            }
        }
    }

    // =====================================================================================
    // parameters (thread_pool_update_params)

    @Override
    public void updateParams(int newMin, int newMax) {
        ThreadPool.checkParams(newMin, newMax);
        lock.lock();
        try {
            if (closing) {
                throw new IllegalStateException("the thread pool of AioContext '" + ctx.name() + "' is closed");
            }
            min = newMin;
            max = newMax;
            applyParamsLocked();
        } finally {
            lock.unlock();
        }
    }

    private void applyParamsLocked() {
        // Backlog threads beyond max are never started (QEMU would start them, then they leave).
        int trim = Math.min(newThreads, cur - max);
        if (trim > 0) {
            newThreads -= trim;
            cur -= trim;
        }
        while (cur < min) {
            spawnLocked();
        }
        // Unlike QEMU, queued work that no worker is free for gets workers at once when
        // max grows, instead of waiting for the next submission.
        while (idleWorkers.idleOrWaking() == 0 && cur < max && cur - busyOrStarting() < queue.size()) {
            spawnLocked();
        }
        // Surplus workers: wake idle ones so they leave; busy ones leave after their job.
        for (int i = cur - max; i > 0 && idleWorkers.wakeOne(); i--) {
            // one woken per surplus worker
        }
    }

    /** Workers that will not take queued work soon: all but the idle, waking and not-yet-running ones. */
    private int busyOrStarting() {
        return cur - idleWorkers.idleOrWaking() - newThreads - pending;
    }

    @Override
    public int threadCount() {
        lock.lock();
        try {
            return cur - newThreads;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int inFlight() {
        return inFlight.get();
    }

    // =====================================================================================
    // close (thread_pool_free_aio, made total: no work may be outstanding in QEMU)

    @Override
    public void close() {
        Throwable thrown;
        synchronized (closeMonitor) {
            if (closeStarted) {
                return; // closed, or closing further up this thread's stack (a completion called it)
            }
            closeStarted = true;
            List<Thread> threads;
            lock.lock();
            try {
                closing = true;
                Request<?> r;
                while ((r = queue.poll()) != null) {
                    r.cancelLocked("the thread pool closed before a worker started it");
                    completions.push(r);
                }
                cur -= newThreads; // the backlog is never started
                newThreads = 0;
                min = 0;
                max = 0;
                while (idleWorkers.wakeOne()) {
                    // every idle worker finds cur > max and leaves
                }
                while (cur > 0) {
                    workerStopped.awaitUninterruptibly(); // running work finishes first
                }
                threads = new ArrayList<>(started);
                started.clear();
            } finally {
                lock.unlock();
            }
            joinAll(threads);
            retryTimer.cancel();
            deleteQuietly(newThreadBh);
            thrown = completions.close();
        }
        if (thrown instanceof RuntimeException e) {
            throw e;
        }
        if (thrown instanceof Error e) {
            throw e;
        }
        if (thrown != null) {
            throw new IllegalStateException("a thread-pool completion threw", thrown);
        }
    }

    /** Waits until every worker thread has ended, so none outlives close. */
    private static void joinAll(List<Thread> threads) {
        boolean interrupted = false;
        for (Thread t : threads) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Deletes bh; a context already closed has dropped it anyway. */
    static void deleteQuietly(BottomHalf bh) {
        try {
            bh.delete();
        } catch (IllegalStateException e) {
            // the context is closed: nothing left to release
        }
    }

    @Override
    public String toString() {
        return "thread pool of AioContext '" + ctx.name() + "'";
    }
}
