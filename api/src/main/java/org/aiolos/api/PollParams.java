package org.aiolos.api;

/**
 * Adaptive-polling parameters (QEMU {@code poll-max-ns}, {@code poll-grow},
 * {@code poll-shrink}).
 *
 * @param maxNs the longest busy poll in ns; 0 turns polling off
 * @param grow growth factor; 0 means 2
 * @param shrink shrink divisor; 0 means reset to 0
 */
public record PollParams(long maxNs, long grow, long shrink) {
    /** Polling off: the default of a plain context. */
    public static final PollParams OFF = new PollParams(0, 0, 0);
    /**
     * QEMU's IOThread default {@code poll-max-ns} (iothread.c): 32768 ns. The one home of
     * this number: the IOThread Metatype default and {@link #IOTHREAD_DEFAULT} read it.
     */
    public static final long IOTHREAD_POLL_MAX_NS = 32_768;

    /** QEMU's IOThread default: poll up to {@value #IOTHREAD_POLL_MAX_NS} ns. */
    public static final PollParams IOTHREAD_DEFAULT = new PollParams(IOTHREAD_POLL_MAX_NS, 0, 0);

    public PollParams {
        requireNonNegative("poll-max-ns", maxNs);
        requireNonNegative("poll-grow", grow);
        requireNonNegative("poll-shrink", shrink);
    }

    private static void requireNonNegative(String name, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " value must be in range [0, "
                    + Long.MAX_VALUE + "], got " + value);
        }
    }
}
