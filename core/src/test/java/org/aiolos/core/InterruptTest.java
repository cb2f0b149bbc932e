package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.aiolos.api.IOThread;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A blocking poll ends on Thread.interrupt(), keeping the interrupt status. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InterruptTest {
    private final TestContexts contexts = new TestContexts();

    @AfterEach
    void tearDown() {
        contexts.closeAll();
        contexts.assertNoFailures();
    }

    @Test
    void interruptingTheHomeThreadEndsABlockingPoll() throws Exception {
        AiolosContext ctx = contexts.open("interrupt");
        AtomicReference<Boolean> progress = new AtomicReference<>();
        AtomicBoolean stillInterrupted = new AtomicBoolean();
        CountDownLatch polling = new CountDownLatch(1);
        Thread home = Thread.ofPlatform().start(() -> {
            ctx.poll(false); // becomes the home thread; settles the notifier
            polling.countDown();
            progress.set(ctx.poll(true)); // nothing will ever be ready
            stillInterrupted.set(Thread.currentThread().isInterrupted());
        });
        assertTrue(polling.await(10, TimeUnit.SECONDS));
        // Interrupt until it returns: the first may land before the thread blocks, which is
        // fine too (then it never blocks).
        while (home.isAlive()) {
            home.interrupt();
            home.join(50);
        }
        assertEquals(Boolean.FALSE, progress.get(), "woken by the interrupt only: no progress");
        assertTrue(stillInterrupted.get(), "the interrupt status is kept for the caller");
        // The context is unharmed: another thread may now be its home and poll it.
        ctx.scheduleOneshot("after", () -> { });
        assertTrue(ctx.poll(false));
    }

    @Test
    void anInterruptedThreadDoesNotBlockAndLaterWaitsBlockAgain() {
        AiolosContext ctx = contexts.open("interrupted");
        ctx.poll(false);
        Thread.currentThread().interrupt();
        try {
            assertFalse(ctx.poll(true), "returns at once instead of sleeping forever");
            assertTrue(Thread.interrupted(), "status kept (and cleared here)");
        } finally {
            Thread.interrupted();
        }
        // Cleared: blocking polls wait again, here for the timer (arming it notifies the
        // loop, so the first may return at once, as in QEMU).
        AtomicBoolean fired = new AtomicBoolean();
        org.aiolos.api.AioTimer t = ctx.newTimer(org.aiolos.api.ClockType.REALTIME, org.aiolos.api.TimeScale.MS,
                () -> fired.set(true));
        t.mod(ctx.clocks().now(org.aiolos.api.ClockType.REALTIME, org.aiolos.api.TimeScale.MS) + 20);
        try {
            for (int i = 0; i < 10 && !fired.get(); i++) {
                ctx.poll(true);
            }
            assertTrue(fired.get(), "the timer ran");
        } finally {
            t.cancel();
        }
    }

    @Test
    void anInterruptedIOThreadKeepsRunning() throws Exception {
        try (IOThread io = Aiolos.newIOThread("interrupted-io")) {
            io.start();
            io.thread().interrupt();
            CountDownLatch ran = new CountDownLatch(1);
            Thread.sleep(20);
            io.context().scheduleOneshot("still running", ran::countDown);
            assertTrue(ran.await(10, TimeUnit.SECONDS));
        }
    }
}
