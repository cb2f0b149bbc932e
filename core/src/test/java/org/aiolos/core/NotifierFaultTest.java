package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.linux.Errno;
import org.aiolos.linux.faults.Faults;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Fault injection: the eventfd write that wakes a blocked loop fails. The scheduling
 * thread sees no error (its work is queued), and the context keeps running: it caps its
 * waits at 1 ms until a write succeeds again.
 */
class NotifierFaultTest {
    private final TestContexts contexts = new TestContexts();

    @AfterEach
    void tearDown() {
        Faults.clear();
        contexts.closeAll();
    }

    @Test
    void failingWakeUpWritesDegradeToBoundedWaitsAndNothingIsLost() throws Exception {
        AiolosContext ctx = contexts.open("faulty-notifier");
        ctx.poll(false);
        // Ends the first wait, which the failed wake-up cannot (QEMU would hang there too).
        AioTimer rescue = ctx.newTimer(ClockType.REALTIME, TimeScale.MS, () -> { });
        rescue.modNs(System.nanoTime() + 200_000_000L);
        AtomicInteger ran = new AtomicInteger();
        Faults.failAlways("write", Errno.EIO);
        Thread producer = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < 50; i++) {
                NotifyTest.sleepMillis(2);
                ctx.scheduleOneshot("while-broken", ran::incrementAndGet); // never throws
            }
        });
        while (ran.get() < 50) {
            ctx.poll(true);
        }
        producer.join();
        assertEquals(50, ran.get(), "every BH ran although no wake-up write succeeded");
        assertEquals(0, ctx.stats().notifierWrites());
        Faults.clear();
        rescue.cancel();
        // Healthy again: a blocking poll is woken through the eventfd. A schedule that lands
        // before the loop blocks needs no write (the loop is not waiting), so it is tried until
        // one lands on a blocked loop, which a loaded machine may take a few tries for.
        for (int attempt = 0; attempt < 50 && ctx.stats().notifierWrites() == 0; attempt++) {
            int want = ran.get() + 1;
            Thread late = Thread.ofPlatform().start(() -> {
                NotifyTest.sleepMillis(20);
                ctx.scheduleOneshot("healthy", ran::incrementAndGet);
            });
            while (ran.get() < want) {
                ctx.poll(true);
            }
            late.join();
        }
        assertTrue(ctx.stats().notifierWrites() >= 1);
        contexts.assertNoFailures();
    }
}
