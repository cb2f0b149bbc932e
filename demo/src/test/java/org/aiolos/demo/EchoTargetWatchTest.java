package org.aiolos.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * The echo demo's context.target, when it keeps the demo from running: a malformed filter
 * and a filter that matches no IOThread are each named in a WARNING; a filter that matches,
 * or none, says nothing.
 */
class EchoTargetWatchTest {
    private static final long GRACE_MS = 50;

    /** The demo logger's WARNING lines. */
    private static final class Warnings extends Handler implements AutoCloseable {
        final List<String> lines = new CopyOnWriteArrayList<>();
        private final Logger logger = Logger.getLogger("org.aiolos.demo");

        Warnings() {
            logger.addHandler(this);
        }

        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                lines.add(r.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }

        void awaitCount(int n) throws InterruptedException {
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (lines.size() < n) {
                assertTrue(System.nanoTime() < deadline, "timed out waiting for warning " + n + ": " + lines);
                Thread.sleep(10);
            }
        }
    }

    private static Map<String, Object> context(long id, String name) {
        return Map.of("service.id", id, "aiolos.name", name);
    }

    @Test
    void aTargetMatchingNoIOThreadIsNamedWithTheIOThreadsThatRun() throws Exception {
        EchoTargetWatch w = new EchoTargetWatch(GRACE_MS);
        try (Warnings log = new Warnings()) {
            w.bindContext(context(1, "io1"));
            w.activate(Map.of("context.target", "(aiolos.name=io9)", "port", "0"));
            log.awaitCount(1);
            assertEquals("echo: context.target (aiolos.name=io9) matches no IOThread (running: io1); the echo demo"
                    + " waits for one", log.lines.get(0));

            // A malformed filter: at once.
            w.modified(Map.of("context.target", "(aiolos.name=io1"));
            log.awaitCount(2);
            assertTrue(log.lines.get(1).startsWith("echo: context.target '(aiolos.name=io1' is no valid filter ("),
                    log.lines.get(1));
            assertTrue(log.lines.get(1).endsWith("); the echo demo does not start until configuration"
                    + " org.aiolos.demo.echo is fixed"), log.lines.get(1));

            // io9 comes within the grace: nothing is said (nothing was scheduled to say it).
            w.modified(Map.of("context.target", "(aiolos.name=io9)"));
            w.bindContext(context(2, "io9"));
            Thread.sleep(10 * GRACE_MS);
            assertEquals(2, log.lines.size(), log.lines.toString());

            // io9 goes: the demo waits again, and says so after the grace.
            w.unbindContext(context(2, "io9"));
            log.awaitCount(3);
            assertEquals(log.lines.get(0), log.lines.get(2));
            w.deactivate();
            w.unbindContext(context(1, "io1")); // as SCR does after deactivating: nothing to schedule
            assertEquals(3, log.lines.size());
        }
    }

    @Test
    void withoutATargetAnyIOThreadWillDoAndNothingIsSaid() {
        EchoTarget none = EchoTarget.of(Map.of("port", "7007"));
        assertNull(none.malformedWarning());
        assertNull(none.waitingWarning(List.of()));
        assertEquals("echo: context.target (aiolos.name=io2) matches no IOThread (no IOThread runs); the echo demo"
                + " waits for one", EchoTarget.of(Map.of("context.target", "(aiolos.name=io2)"))
                .waitingWarning(List.of()));
        assertNull(EchoTarget.of(Map.of("context.target", "(aiolos.name=io*)")).waitingWarning(
                List.of(context(1, "io1"))));
    }
}
