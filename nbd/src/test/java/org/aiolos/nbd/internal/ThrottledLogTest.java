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
        List<Long> armed = new ArrayList<>();
        ThrottledLog log = new ThrottledLog(out, System.Logger.Level.ERROR, "export 'd'", "failed request",
                "failed requests", now::get, armed::add);
        int[] built = {0};
        Supplier<String> msg = () -> "export 'd': read failed #" + ++built[0];
        for (int i = 0; i < 4313; i++) {
            log.log(msg);
            now.addAndGet(1_000_000); // 1 ms apart: 4.3 s, all in the first window
        }
        assertEquals(List.of("ERROR export 'd': read failed #1"), out.lines);
        assertEquals(1, built[0], "suppressed messages are never built");
        assertEquals(List.of(ThrottledLog.WINDOW_NS - 1_000_000), armed,
                "the owner's timer is armed once, for the end of the window, by the first line held back");
        now.addAndGet(ThrottledLog.WINDOW_NS);
        log.log(msg);
        // The 4,312 held back came within 4.312 s of the line logged: rounded up, 5 s.
        assertEquals(List.of("ERROR export 'd': read failed #1",
                "ERROR export 'd': ... and 4,312 more failed requests in the 5 s after the one logged",
                "ERROR export 'd': read failed #2"), out.lines);
        now.addAndGet(2_500_000_000L);
        log.log(msg);
        log.flush(); // the window's end (the owner's timer), or the export closing
        log.flush();
        assertEquals("ERROR export 'd': ... and 1 more failed request in the 3 s after the one logged",
                out.lines.get(3));
        assertEquals(4, out.lines.size());
        log.log(msg);
        assertEquals("ERROR export 'd': read failed #3", out.lines.get(4), "after a flush the next is logged whole");
    }
}
