package org.aiolos.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** A storm of failures logs one line per 10 s window and a count of the rest. */
class ThrottledLogTest {
    /** Collects what is logged. */
    private static final class Lines implements System.Logger {
        final List<String> lines = new ArrayList<>();

        @Override
        public String getName() {
            return "test";
        }

        @Override
        public boolean isLoggable(Level level) {
            return true;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            lines.add(level + " " + msg);
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            lines.add(level + " " + format);
        }
    }

    @Test
    void oneLinePerWindowThenTheCountOfTheOthers() {
        Lines out = new Lines();
        AtomicLong now = new AtomicLong(1_000);
        ThrottledLog log = new ThrottledLog(out, System.Logger.Level.ERROR, "export 'd'", now::get);
        int[] built = {0};
        Supplier<String> msg = () -> "export 'd': read failed #" + ++built[0];
        for (int i = 0; i < 4313; i++) {
            log.log(msg);
            now.addAndGet(1_000_000); // 1 ms apart: 4.3 s, all in the first window
        }
        assertEquals(List.of("ERROR export 'd': read failed #1"), out.lines);
        assertEquals(1, built[0], "suppressed messages are never built");
        now.addAndGet(ThrottledLog.WINDOW_NS);
        log.log(msg);
        assertEquals(List.of("ERROR export 'd': read failed #1",
                "ERROR export 'd': ... and 4,312 more failed requests in the last 10 s",
                "ERROR export 'd': read failed #2"), out.lines);
        log.log(msg);
        now.addAndGet(3_000_000_000L);
        log.flush();
        log.flush();
        assertEquals("ERROR export 'd': ... and 1 more failed requests in the last 3 s", out.lines.get(3));
        assertEquals(4, out.lines.size());
    }
}
