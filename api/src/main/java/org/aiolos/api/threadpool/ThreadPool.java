package org.aiolos.api.threadpool;

import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import org.aiolos.api.AioContext;
import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;

/**
 * Worker threads for blocking work whose completions run in the home thread of the
 * pool's context, through a bottom half, never on a worker and never inside
 * {@link #submit} (QEMU {@code ThreadPoolAio}).
 *
 * <p><b>Threads.</b> {@link #submit}, {@link PoolRequest#cancel()}, {@link #updateParams}
 * and the counters may be called from any thread; completions always run in the home
 * thread of {@link #context()}, so that context's loop must run for them (and for new
 * workers, which the home thread starts) to happen.
 *
 * <p><b>Order.</b> Among requests whose work has finished by the time the completion
 * bottom half runs, the most recently submitted completes first (QEMU's order). Before
 * each completion the bottom half is scheduled again, so a nested
 * {@link AioContext#poll(boolean)} inside a completion still delivers the others.
 */
public interface ThreadPool extends AutoCloseable {

    /**
     * QEMU's default for {@code thread-pool-max} (util/thread-pool.c); the one home of this
     * number, read by the IOThread Metatype default and core's context options.
     */
    int DEFAULT_MAX_THREADS = 64;

    /** The context whose home thread runs the completions. */
    AioContext context();

    /**
     * Queues {@code work}; {@code completion} later runs exactly once in the home thread
     * with the result, the exception {@code work} threw, or a cancellation. Workers are
     * started lazily, one after another, while no worker is idle and fewer than
     * {@code max} exist.
     *
     * @throws IllegalStateException if the pool is closed (or, for a context's pool, no
     *     thread-pool provider is available)
     */
    <T> PoolRequest submit(Callable<T> work, Completion<? super T> completion);

    /**
     * Queues {@code work} without a completion (QEMU {@code thread_pool_submit}): its result
     * is dropped; an exception it throws is logged (cancellation is not), so a failure is
     * never silent.
     *
     * @throws IllegalStateException as {@link #submit(Callable, Completion)}
     */
    default PoolRequest submit(Callable<?> work) {
        return submit(work, (Object result, Throwable failure) -> {
            if (failure != null && !(failure instanceof CancellationException)) {
                System.getLogger("org.aiolos.api").log(System.Logger.Level.WARNING, "thread-pool work of AioContext '"
                        + context().name() + "' submitted without a completion failed", failure);
            }
        });
    }

    /**
     * Runs {@code work} on a worker while the calling coroutine yields, and returns its
     * result once the completion has woken the coroutine again (QEMU
     * {@code thread_pool_submit_co}). Must be called from a coroutine running in
     * {@link #context()}'s home thread.
     *
     * @return what {@code work} returned
     * @throws Exception what {@code work} threw, unchanged
     * @throws CancellationException if the request was cancelled before a worker took
     *     it (the pool closed meanwhile)
     * @throws IllegalStateException outside a coroutine, or outside the home thread
     * @throws org.aiolos.api.coroutine.CoroutinePinnedException if the coroutine cannot
     *     yield (nothing was submitted)
     */
    default <T> T submitCo(Callable<T> work) throws Exception {
        Objects.requireNonNull(work, "work");
        Coroutine self = Coroutines.inCoroutine() ? Coroutines.self() : null;
        if (self == null || !context().inHomeThread()) {
            throw new IllegalStateException("submitCo must be called from a coroutine running in the home thread of "
                    + "AioContext '" + context().name() + "'" + (self == null ? " (the caller is not a coroutine)"
                    : " (it runs in thread '" + Thread.currentThread().getName() + "')"));
        }
        // Before submitting: a pinned coroutine must not leave a job running whose completion
        // later wakes it wherever it then waits (QEMU cannot be pinned; this can).
        Coroutines.ensureCanYield();
        CoResult<T> out = new CoResult<>(self);
        submit(work, out);
        while (!out.done) {
            // The completion runs from a bottom half of this context, so it cannot happen
            // before this yield; looping guards against anyone else entering us early.
            Coroutines.yieldNow();
        }
        if (out.failure instanceof Exception e) {
            throw e;
        }
        if (out.failure instanceof Error e) {
            throw e;
        }
        if (out.failure != null) {
            throw new IllegalStateException("work threw a non-Exception Throwable", out.failure);
        }
        return out.result;
    }

    /**
     * Applies new worker bounds (QEMU {@code thread_pool_update_params}) without losing
     * queued or running work: workers are started until {@code min} exist, and surplus
     * workers leave once their current request, if any, is done.
     *
     * @throws IllegalArgumentException as {@link #checkParams}
     * @throws IllegalStateException if the pool is closed
     */
    void updateParams(int min, int max);

    /** Live worker threads (started, or being started, and not yet ended). */
    int threadCount();

    /** Requests submitted whose completion has not started yet. */
    int inFlight();

    /**
     * Closes the pool: new submissions fail; queued work completes as cancelled; running
     * work is waited for; then every outstanding completion runs, exactly once, in the
     * calling thread before this returns, and every worker thread has ended. Call it from
     * the home thread (a completion may call it too), or while no thread runs the
     * context's loop. A pool opened directly from a factory must be closed before its
     * context. Idempotent.
     *
     * <p>If completions threw while it delivered them, it throws the first (the others
     * suppressed) after the pool is closed.
     */
    @Override
    void close();

    /**
     * Checks QEMU's rule for {@code thread-pool-min}/{@code thread-pool-max}.
     *
     * @throws IllegalArgumentException "bad thread-pool-min/thread-pool-max values" with
     *     the values and the rule they break, if {@code min < 0}, {@code max <= 0},
     *     either exceeds {@link Integer#MAX_VALUE}, or {@code min > max}
     */
    static void checkParams(long min, long max) {
        String why = null;
        if (min < 0) {
            why = "thread-pool-min must be >= 0";
        } else if (max <= 0) {
            why = "thread-pool-max must be > 0";
        } else if (min > Integer.MAX_VALUE || max > Integer.MAX_VALUE) {
            why = "values must not exceed " + Integer.MAX_VALUE;
        } else if (min > max) {
            why = "thread-pool-min must not exceed thread-pool-max";
        }
        if (why != null) {
            throw new IllegalArgumentException("bad thread-pool-min/thread-pool-max values (min=" + min + ", max="
                    + max + "): " + why);
        }
    }

    /** The completion callback. */
    @FunctionalInterface
    interface Completion<T> {
        /**
         * @param result the work's result, or null
         * @param failure the exception the work threw, a
         *     {@link java.util.concurrent.CancellationException} if it was cancelled
         *     before it started, or null on success
         */
        void complete(T result, Throwable failure);
    }
}
