package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.aiolos.api.BottomHalf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The notify protocol ({@code aio_notify} and {@code aio_notify_accept} in QEMU's
 * {@code util/async.c}) and what {@code aio_poll} ({@code util/aio-posix.c}) counts as progress.
 */
class NotifyTest {
    private final TestContexts contexts = new TestContexts();

    @AfterEach
    void tearDown() {
        contexts.assertNoFailures();
        contexts.closeAll();
    }

    @Test
    void blockingPollWokenOnlyByWakeUpReturnsFalse() throws Exception {
        AiolosContext ctx = contexts.open("wake");
        assertFalse(ctx.poll(false));
        Thread waker = Thread.ofPlatform().start(() -> {
            sleepMillis(20);
            ctx.wakeUp();
        });
        assertFalse(ctx.poll(true), "a notify is never progress");
        waker.join();
        assertEquals(1, ctx.stats().notifierWrites(), "the loop was blocked, so the waker wrote the eventfd once");
    }

    @Test
    void wakeUpWhileTheLoopRunsWritesNoEventfd() {
        AiolosContext ctx = contexts.open("cheap");
        ctx.poll(false);
        for (int i = 0; i < 1000; i++) {
            ctx.wakeUp();
        }
        assertEquals(0, ctx.stats().notifierWrites(), "nobody was about to block");
        assertFalse(ctx.poll(true), "the pending notify makes the blocking poll return at once");
    }

    /**
     * Other threads schedule BHs into a context blocked in poll(true): every schedule is
     * seen, round trip after round trip. A lost wake-up hangs the test.
     */
    @Test
    void noLostWakeUpAcross200000CrossThreadRoundTrips() throws Exception {
        AiolosContext ctx = contexts.open("pingpong");
        final int rounds = Integer.getInteger("aiolos.test.roundTrips", 200_000);
        AtomicLong ran = new AtomicLong();
        BottomHalf bh = ctx.newBottomHalf("ping", ran::incrementAndGet);
        AtomicBoolean stop = new AtomicBoolean();
        Thread producer = Thread.ofPlatform().name("producer").start(() -> {
            for (int i = 1; i <= rounds && !stop.get(); i++) {
                if ((i & 15) == 0) {
                    // Give the loop time to reach its blocking wait, so both sides of the
                    // Dekker pair are exercised: sometimes it sees `notified`, sometimes
                    // it must be woken through the eventfd.
                    java.util.concurrent.locks.LockSupport.parkNanos(2_000);
                }
                bh.schedule();
                while (ran.get() < i && !stop.get()) {
                    Thread.onSpinWait();
                }
            }
        });
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (ran.get() < rounds) {
            ctx.poll(true);
            if (System.nanoTime() > deadline) {
                stop.set(true);
                break;
            }
        }
        producer.join();
        assertEquals(rounds, ran.get(), "every scheduled BH ran");
        assertTrue(ctx.stats().notifierWrites() > 0, "the blocked path was exercised");
        bh.delete();
        ctx.poll(false);
    }

    /** Several producers at once, each BH counted: nothing lost, nothing run twice. */
    @Test
    void concurrentProducersLoseNothing() throws Exception {
        AiolosContext ctx = contexts.open("many");
        final int perThread = 20_000;
        final int threads = 3;
        AtomicLong ran = new AtomicLong();
        Thread[] producers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            producers[t] = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < perThread; i++) {
                    ctx.scheduleOneshot("oneshot", ran::incrementAndGet);
                    if ((i & 63) == 0) {
                        Thread.yield();
                    }
                }
            });
        }
        while (ran.get() < (long) perThread * threads) {
            ctx.poll(true);
        }
        for (Thread p : producers) {
            p.join();
        }
        assertFalse(ctx.poll(false));
        assertEquals((long) perThread * threads, ran.get());
    }

    @Test
    void blockingPollReturnsTrueWhenABottomHalfRan() throws Exception {
        AiolosContext ctx = contexts.open("progress");
        ctx.poll(false);
        Thread t = Thread.ofPlatform().start(() -> {
            sleepMillis(10);
            ctx.scheduleOneshot("remote", () -> { });
        });
        assertTrue(ctx.poll(true));
        t.join();
    }

    static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
