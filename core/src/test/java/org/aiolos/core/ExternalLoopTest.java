package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.ExternalLoopSource;
import org.aiolos.api.PollFd;
import org.aiolos.api.TimeScale;
import org.aiolos.linux.EventFd;
import org.aiolos.linux.PollSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A foreign loop drives a context through prepare / poll / check / dispatch
 * ({@code aio_ctx_prepare}, {@code aio_ctx_check}, {@code aio_ctx_dispatch} in QEMU's
 * {@code util/async.c}),
 * here a minimal ppoll loop standing in for glib.
 */
class ExternalLoopTest {
    private final TestContexts contexts = new TestContexts();

    @AfterEach
    void tearDown() {
        contexts.assertNoFailures();
        contexts.closeAll();
    }

    /** One iteration of the foreign loop; returns whether the source was dispatched. */
    private static boolean iterate(ExternalLoopSource source, PollSet set) {
        long timeout = source.prepare();
        List<PollFd> fds = source.pollFds();
        set.ensureCapacity(fds.size());
        for (int i = 0; i < fds.size(); i++) {
            set.set(i, fds.get(i).fd(), fds.get(i).events());
        }
        // The foreign loop waits in ms, rounded up (QEMU's GSource path).
        int ms = ExternalLoopSource.timeoutMillis(timeout);
        set.ppoll(fds.size(), ms < 0 ? -1 : ms * 1_000_000L);
        for (int i = 0; i < fds.size(); i++) {
            fds.get(i).setRevents(set.revents(i));
        }
        if (source.check()) {
            return source.dispatch();
        }
        return false;
    }

    @Test
    void bottomHalvesHandlersAndTimersRunUnderAForeignLoop() throws Exception {
        AiolosContext ctx = contexts.open("external");
        ExternalLoopSource source = ctx.externalLoopSource();
        try (PollSet set = new PollSet(); EventFd data = EventFd.open(false)) {
            // No "settle" iteration: with nothing to do, a foreign loop rightly blocks
            // forever (the notify from construction came while nobody was about to block).
            AtomicInteger bhRuns = new AtomicInteger();
            ctx.scheduleOneshot("bh", bhRuns::incrementAndGet);
            assertEquals(0, source.prepare(), "a scheduled BH: ready without polling");
            assertTrue(source.check());
            assertTrue(source.dispatch());
            assertEquals(1, bhRuns.get());

            AtomicInteger reads = new AtomicInteger();
            ctx.setEventNotifier(data, () -> {
                data.testAndClear();
                reads.incrementAndGet();
            }, null, null);
            Thread writer = Thread.ofPlatform().start(() -> {
                NotifyTest.sleepMillis(10);
                data.set();
            });
            while (reads.get() == 0) {
                iterate(source, set);
            }
            writer.join();

            AtomicInteger fired = new AtomicInteger();
            AioTimer t = ctx.newTimer(ClockType.REALTIME, TimeScale.MS, fired::incrementAndGet);
            t.modNs(System.nanoTime() + 2_000_000L);
            while (fired.get() == 0) {
                iterate(source, set);
            }
            // A wake-up from another thread ends the foreign loop's wait: bit 0 of notify_me
            // makes wakeUp write the eventfd between prepare and check.
            Thread waker = Thread.ofPlatform().start(() -> {
                NotifyTest.sleepMillis(10);
                ctx.scheduleOneshot("remote", bhRuns::incrementAndGet);
            });
            while (bhRuns.get() < 2) {
                iterate(source, set);
            }
            waker.join();
            ctx.setEventNotifier(data, null, null, null);
        }
    }

    @Test
    void timeoutConversionRoundsUp() {
        assertEquals(-1, ExternalLoopSource.timeoutMillis(-1));
        assertEquals(0, ExternalLoopSource.timeoutMillis(0));
        assertEquals(1, ExternalLoopSource.timeoutMillis(1));
        assertEquals(2, ExternalLoopSource.timeoutMillis(1_000_001));
        assertEquals(Integer.MAX_VALUE, ExternalLoopSource.timeoutMillis(Long.MAX_VALUE));
        assertFalse(ExternalLoopSource.timeoutMillis(999_999) == 0);
    }
}
