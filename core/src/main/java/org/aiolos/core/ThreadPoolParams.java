package org.aiolos.core;

/** Validation shared by every place that accepts thread-pool bounds. */
public final class ThreadPoolParams {
    private ThreadPoolParams() {
    }

    /**
     * Checks QEMU's rule for {@code thread-pool-min}/{@code thread-pool-max}.
     *
     * @throws IllegalArgumentException "bad thread-pool-min/thread-pool-max values" with
     *     the values and the rule they break
     */
    public static void check(long min, long max) {
        // One rule, kept in the API so pools enforce the same message.
        org.aiolos.api.threadpool.ThreadPool.checkParams(min, max);
    }
}
