package org.aiolos.nbd.internal;

import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Log lines about failing requests, at most one per window: under a failing disk every
 * request fails, and a line each would bury the log (and the console) in thousands of
 * identical lines. The first failure of a window is logged whole; the others are counted,
 * and the next line logged after the window (or {@link #flush}, when the export closes)
 * says how many there were: {@code "export 'd': ... and 4,312 more failed requests in the
 * last 10 s"}. Thread-safe; the counting path allocates nothing.
 */
final class ThrottledLog {
    static final long WINDOW_NS = 10_000_000_000L;

    private final System.Logger log;
    private final System.Logger.Level level;
    private final String subject;
    private final LongSupplier clock;
    private boolean open;
    private long windowStart;
    private long suppressed;
    /** What the summary counts. */
    private String what = "failed requests";

    /**
     * @param subject the start of the summary line ({@code "export 'd'"})
     * @param clock nanoseconds, as {@link System#nanoTime}
     */
    ThrottledLog(System.Logger log, System.Logger.Level level, String subject, LongSupplier clock) {
        this.log = log;
        this.level = level;
        this.subject = subject;
        this.clock = clock;
    }

    ThrottledLog(System.Logger log, System.Logger.Level level, String subject) {
        this(log, level, subject, System::nanoTime);
    }

    /** The same for other events than failed requests: {@code what} names them in the summary. */
    ThrottledLog(System.Logger log, System.Logger.Level level, String subject, String what) {
        this(log, level, subject, System::nanoTime);
        this.what = what;
    }

    /** Logs {@code message} if no failure was logged in this window; counts it otherwise. */
    void log(Supplier<String> message) {
        String summary;
        synchronized (this) {
            long now = clock.getAsLong();
            if (open && now - windowStart < WINDOW_NS) {
                suppressed++;
                return;
            }
            summary = takeSummary(now);
            open = true;
            windowStart = now;
        }
        if (summary != null) {
            log.log(level, summary);
        }
        log.log(level, message.get());
    }

    /** Logs the count of failures not logged yet, if any (the export is closing). */
    void flush() {
        String summary;
        synchronized (this) {
            summary = takeSummary(clock.getAsLong());
            open = false;
        }
        if (summary != null) {
            log.log(level, summary);
        }
    }

    private String takeSummary(long now) {
        if (suppressed == 0) {
            return null;
        }
        long seconds = Math.max(1, Math.min(now - windowStart, WINDOW_NS) / 1_000_000_000L);
        String s = String.format("%s: ... and %,d more %s in the last %d s", subject, suppressed, what, seconds);
        suppressed = 0;
        return s;
    }
}
