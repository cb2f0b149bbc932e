package org.aiolos.nbd;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * What the nbd module logs ({@code java.util.logging}'s {@code org.aiolos.nbd}) while this
 * is open, as "LEVEL message" lines, with the thrown exception appended when there is one.
 * Closing it restores the logger as it was.
 */
final class LogCapture implements AutoCloseable {
    private final Logger log = Logger.getLogger("org.aiolos.nbd");
    private final Level levelBefore = log.getLevel();
    /** Guarded by itself: published from the server's threads. */
    private final List<String> lines = new ArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            synchronized (lines) {
                lines.add(r.getLevel() + " " + r.getMessage() + (r.getThrown() == null ? "" : ": " + r.getThrown()));
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    /** Records INFO and above, the logger's default. */
    LogCapture() {
        log.addHandler(handler);
    }

    /** Records {@code level} and above (FINE for what the module logs at DEBUG). */
    LogCapture(Level level) {
        log.setLevel(level);
        log.addHandler(handler);
    }

    /** Every line so far. */
    List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    /** The lines so far that {@code p} accepts. */
    List<String> lines(Predicate<String> p) {
        return lines().stream().filter(p).toList();
    }

    @Override
    public void close() {
        log.removeHandler(handler);
        log.setLevel(levelBefore);
    }
}
