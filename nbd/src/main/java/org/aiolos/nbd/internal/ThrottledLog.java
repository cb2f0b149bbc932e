package org.aiolos.nbd.internal;

import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Log lines about failing requests, at most one per window: under a failing disk every
 * request fails, and a line each would bury the log (and the console) in thousands of
 * identical lines. The first failure of a window is logged whole; the others are counted,
 * and a summary says how many there were and over how long after the line they follow:
 * {@code "export 'd': ... and 4,312 more failed requests in the 10 s after the one logged"}.
 * The summary comes when the window ends, if the owner arms a timer for it (the
 * {@code windowEnds} hook), else with the next line logged after it, and at the latest at
 * {@link #flush} (the export closes). Thread-safe; the counting path allocates nothing.
 */
final class ThrottledLog {
    static final long WINDOW_NS = 10_000_000_000L;

    private final System.Logger log;
    private final System.Logger.Level level;
    private final String subject;
    private final LongSupplier clock;
    /** What the summary counts: one, and more than one. */
    private final String one;
    private final String many;
    /** Told, with the ns left, when a window first holds back a line; may be null. */
    private final LongConsumer windowEnds;
    private boolean open;
    private long windowStart;
    private long suppressed;
    private long lastSuppressed;

    /**
     * @param subject the start of the summary line ({@code "export 'd'"})
     * @param one what one counted event is ({@code "failed request"})
     * @param many what several are ({@code "failed requests"})
     * @param clock nanoseconds, as {@link System#nanoTime}
     * @param windowEnds arms a call of {@link #flush} after the given ns, or null
     */
    ThrottledLog(System.Logger log, System.Logger.Level level, String subject, String one, String many,
                 LongSupplier clock, LongConsumer windowEnds) {
        this.log = log;
        this.level = level;
        this.subject = subject;
        this.one = one;
        this.many = many;
        this.clock = clock;
        this.windowEnds = windowEnds;
    }

    /** For failed requests. */
    ThrottledLog(System.Logger log, System.Logger.Level level, String subject, LongConsumer windowEnds) {
        this(log, level, subject, "failed request", "failed requests", System::nanoTime, windowEnds);
    }

    /** Logs {@code message} if no failure was logged in this window; counts it otherwise. */
    void log(Supplier<String> message) {
        String summary = null;
        long armNs = -1;
        boolean whole;
        synchronized (this) {
            long now = clock.getAsLong();
            whole = !open || now - windowStart >= WINDOW_NS;
            if (whole) {
                summary = takeSummary();
                open = true;
                windowStart = now;
            } else {
                if (suppressed++ == 0) {
                    armNs = WINDOW_NS - (now - windowStart);
                }
                lastSuppressed = now;
            }
        }
        if (armNs >= 0 && windowEnds != null) {
            windowEnds.accept(armNs); // outside the lock: the owner's timer
        }
        if (summary != null) {
            log.log(level, summary);
        }
        if (whole) {
            log.log(level, message.get());
        }
    }

    /** Logs the count of failures not logged yet, if any: the window ended, or the export closes. */
    void flush() {
        String summary;
        synchronized (this) {
            summary = takeSummary();
            open = false;
        }
        if (summary != null) {
            log.log(level, summary);
        }
    }

    private String takeSummary() {
        if (suppressed == 0) {
            return null;
        }
        long ns = lastSuppressed - windowStart;
        long seconds = Math.max(1, (ns + 999_999_999L) / 1_000_000_000L); // rounded up: they all fit in it
        String s = String.format("%s: ... and %,d more %s in the %d s after the one logged", subject, suppressed,
                suppressed == 1 ? one : many, seconds);
        suppressed = 0;
        return s;
    }
}
