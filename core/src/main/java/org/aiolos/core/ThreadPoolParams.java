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
}
