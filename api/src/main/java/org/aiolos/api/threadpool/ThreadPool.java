package org.aiolos.api.threadpool;

import java.util.concurrent.Callable;

/**
 * Worker threads for blocking work whose completions run in the home thread of the
 * pool's context, through a bottom half, never on a worker and never inside
 * {@link #submit}.
 */
public interface ThreadPool extends AutoCloseable {

    /**
     * Queues {@code work}; {@code completion} later runs exactly once in the home thread
     * with the result, the exception {@code work} threw, or a cancellation.
     */
    <T> PoolRequest submit(Callable<T> work, Completion<? super T> completion);

    /** Applies new worker bounds without losing queued or running work. */
    void updateParams(int min, int max);

    /** Live worker threads. */
    int threadCount();

    /** Requests submitted whose completion has not run yet. */
    int inFlight();

    /**
     * Closes the pool: queued work completes as cancelled, running work is waited for,
     * and every worker thread has ended when this returns.
     */
    @Override
    void close();

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
