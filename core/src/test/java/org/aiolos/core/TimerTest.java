package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.core.clock.ClockGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Timers on every clock ({@code timer_mod_ns}, {@code timerlist_run_timers} in QEMU's
 * {@code util/qemu-timer.c}), driven deterministically on VIRTUAL.
 */
class TimerTest {
    private static final long HOUR = 3_600_000_000_000L;
    private final TestContexts contexts = new TestContexts();
    private final List<AioTimer> timers = new ArrayList<>();
    private AiolosContext ctx;
    private ClockGroup clocks;

    @BeforeEach
    void setUp() {
        ctx = contexts.open("timers");
        clocks = contexts.clocks();
        ctx.poll(false);
    }

    @AfterEach
    void tearDown() {
        timers.forEach(AioTimer::cancel);
        contexts.assertNoFailures();
        contexts.closeAll();
    }

    private AioTimer timer(ClockType clock, TimeScale scale, Runnable cb) {
        AioTimer t = ctx.newTimer(clock, scale, cb);
        timers.add(t);
        return t;
    }

    @Test
    void virtualClockStartsDisabledAndItsTimersWaitUntilEnabled() {
        assertFalse(clocks.isEnabled(ClockType.VIRTUAL));
        AtomicInteger fired = new AtomicInteger();
        AioTimer t = timer(ClockType.VIRTUAL, TimeScale.NS, fired::incrementAndGet);
        t.modNs(clocks.nowNs(ClockType.VIRTUAL));
        assertTrue(t.isPending());
        assertEquals(-1, ctx.computeTimeout(), "a disabled clock contributes no deadline");
        assertFalse(ctx.poll(false));
        assertEquals(0, fired.get());
        clocks.enable(ClockType.VIRTUAL, true);
        assertEquals(0, ctx.computeTimeout());
        assertTrue(ctx.poll(false));
        assertEquals(1, fired.get());
        assertFalse(t.isPending());
        assertEquals(-1, t.expireTimeNs());
    }

    @Test
    void advancingVirtualTimeFiresExactlyTheDueTimers() {
        clocks.enable(ClockType.VIRTUAL, true);
        List<String> fired = new ArrayList<>();
        long now = clocks.nowNs(ClockType.VIRTUAL);
        timer(ClockType.VIRTUAL, TimeScale.NS, () -> fired.add("1h")).modNs(now + HOUR);
        timer(ClockType.VIRTUAL, TimeScale.NS, () -> fired.add("2h")).modNs(now + 2 * HOUR);
        long timeout = ctx.computeTimeout();
        assertTrue(timeout > HOUR - 1_000_000_000L && timeout <= HOUR, "deadline of the earliest timer: " + timeout);
        assertFalse(ctx.poll(false));
        clocks.advanceVirtual(HOUR);
        assertTrue(ctx.poll(false));
        assertEquals(List.of("1h"), fired);
        clocks.advanceVirtual(HOUR);
        assertTrue(ctx.poll(false));
        assertEquals(List.of("1h", "2h"), fired);
        assertThrows(IllegalArgumentException.class, () -> clocks.advanceVirtual(-1));
    }

    @Test
    void equalDeadlinesFireInArmingOrderAndEarlierFirst() {
        clocks.enable(ClockType.VIRTUAL, true);
        List<Integer> order = new ArrayList<>();
        long when = clocks.nowNs(ClockType.VIRTUAL) + HOUR;
        for (int i = 0; i < 10; i++) {
            int id = i;
            timer(ClockType.VIRTUAL, TimeScale.NS, () -> order.add(id)).modNs(i == 7 ? when - 1 : when);
        }
        clocks.advanceVirtual(HOUR);
        assertTrue(ctx.poll(false));
        assertEquals(List.of(7, 0, 1, 2, 3, 4, 5, 6, 8, 9), order);
    }

    @Test
    void rearmingToThePastRunsAgainInTheSamePassButAFutureRearmWaits() {
        clocks.enable(ClockType.VIRTUAL, true);
        AtomicInteger pastRuns = new AtomicInteger();
        AioTimer[] t = new AioTimer[2];
        t[0] = timer(ClockType.VIRTUAL, TimeScale.NS, () -> {
            if (pastRuns.incrementAndGet() < 3) {
                t[0].modNs(0); // before the time sampled for this pass
            }
        });
        AtomicInteger periodic = new AtomicInteger();
        t[1] = timer(ClockType.VIRTUAL, TimeScale.NS, () -> {
            periodic.incrementAndGet();
            t[1].modNs(clocks.nowNs(ClockType.VIRTUAL) + HOUR);
        });
        t[0].modNs(0);
        t[1].modNs(0);
        assertTrue(ctx.poll(false));
        assertEquals(3, pastRuns.get(), "re-armed in the past: ran again in the same pass");
        assertEquals(1, periodic.get(), "re-armed in the future: waits for a later pass");
        assertFalse(ctx.poll(false));
    }

    @Test
    void anticipateOnlyMovesEarlierAndScalesMultiply() {
        clocks.enable(ClockType.VIRTUAL, true);
        AioTimer t = timer(ClockType.VIRTUAL, TimeScale.MS, () -> { });
        t.mod(5_000);
        assertEquals(5_000_000_000L, t.expireTimeNs());
        t.modAnticipate(9_000);
        assertEquals(5_000_000_000L, t.expireTimeNs(), "later: ignored");
        t.modAnticipate(2_000);
        assertEquals(2_000_000_000L, t.expireTimeNs(), "earlier: taken");
        t.mod(Long.MAX_VALUE / 10);
        assertEquals(Long.MAX_VALUE, t.expireTimeNs(), "overflow saturates instead of wrapping into the past");
        t.modNs(-50);
        assertEquals(0, t.expireTimeNs(), "negative times clamp to 0");
        t.cancel();
        t.cancel(); // idempotent
        assertFalse(t.isPending());
        assertTrue(t.isExpired(0), "QEMU quirk kept: a timer that is not pending counts as expired");
        t.mod(10);
        assertFalse(t.isExpired(9));
        assertTrue(t.isExpired(10));
    }

    @Test
    void realtimeTimerEndsABlockingPollNoEarlierThanItsDeadline() {
        AtomicLong firedAt = new AtomicLong();
        AioTimer t = timer(ClockType.REALTIME, TimeScale.NS, () -> firedAt.set(System.nanoTime()));
        long deadline = System.nanoTime() + 3_000_000L;
        t.modNs(deadline);
        while (firedAt.get() == 0) {
            ctx.poll(true);
        }
        assertTrue(firedAt.get() >= deadline, "never early");
    }

    @Test
    void timerArmedFromAnotherThreadWakesABlockedPoll() throws Exception {
        AtomicInteger fired = new AtomicInteger();
        AioTimer t = timer(ClockType.REALTIME, TimeScale.MS, fired::incrementAndGet);
        Thread armer = Thread.ofPlatform().start(() -> {
            NotifyTest.sleepMillis(20);
            t.modNs(System.nanoTime()); // becomes the head: the blocked loop is notified
        });
        while (fired.get() == 0) {
            ctx.poll(true);
        }
        armer.join();
        assertEquals(1, fired.get());
    }

    @Test
    void hostClockTimer() {
        AtomicInteger fired = new AtomicInteger();
        AioTimer t = timer(ClockType.HOST, TimeScale.NS, fired::incrementAndGet);
        long now = clocks.nowNs(ClockType.HOST);
        assertTrue(Math.abs(now / 1_000_000L - System.currentTimeMillis()) < 1000, "HOST is wall-clock time");
        t.modNs(now);
        assertTrue(ctx.poll(false));
        assertEquals(1, fired.get());
    }

    @Test
    void disablingAClockWaitsForItsRunningCallbacks() throws Exception {
        clocks.enable(ClockType.VIRTUAL, true);
        CountDownLatch inCallback = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        timer(ClockType.VIRTUAL, TimeScale.NS, () -> {
            inCallback.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }).modNs(0);
        AtomicLong disabledAt = new AtomicLong();
        AtomicLong releasedAt = new AtomicLong();
        Thread disabler = Thread.ofPlatform().start(() -> {
            try {
                inCallback.await();
            } catch (InterruptedException e) {
                return;
            }
            Thread.ofPlatform().start(() -> {
                NotifyTest.sleepMillis(30);
                releasedAt.set(System.nanoTime());
                release.countDown();
            });
            clocks.enable(ClockType.VIRTUAL, false);
            disabledAt.set(System.nanoTime());
        });
        ctx.poll(false);
        disabler.join();
        assertTrue(disabledAt.get() >= releasedAt.get(), "enable(false) returned only after the callback did");
        assertThrows(IllegalArgumentException.class, () -> clocks.enable(ClockType.REALTIME, false));
    }

    @Test
    void closeWithAPendingTimerFailsAndNamesIt() {
        TestContexts local = new TestContexts();
        AiolosContext c = local.open("pending-timer");
        AioTimer t = c.newTimer(ClockType.REALTIME, TimeScale.MS, () -> { });
        t.mod(Long.MAX_VALUE / 2_000_000L);
        IllegalStateException e = assertThrows(IllegalStateException.class, c::close);
        assertTrue(e.getMessage().contains("timer on REALTIME"), e.getMessage());
        t.cancel();
        c.close();
    }

    /**
     * A timer armed from another thread while the context closes is either named by the
     * refused close or refused itself; it is never accepted by a context that then closes
     * (it would be lost with it). 300 races, each a fresh context.
     */
    @Test
    void aTimerArmedFromAnotherThreadDuringCloseIsRefusedOrBlocksTheClose() throws Exception {
        int acceptedThenClosed = 0;
        int refusedByTheList = 0;
        int refusedClose = 0;
        for (int round = 0; round < 300; round++) {
            TestContexts local = new TestContexts();
            AiolosContext c = local.open("close-race-" + round);
            AioTimer t = c.newTimer(ClockType.REALTIME, TimeScale.MS, () -> { });
            CountDownLatch go = new CountDownLatch(1);
            AtomicInteger armed = new AtomicInteger(); // 1 accepted, 2 refused as closed
            Thread armer = Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                    t.mod(Long.MAX_VALUE / 2_000_000L);
                    armed.set(1);
                } catch (IllegalStateException closed) {
                    armed.set(2);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            go.countDown();
            boolean closed;
            try {
                c.close();
                closed = true;
            } catch (IllegalStateException refused) {
                assertTrue(refused.getMessage().contains("timer on REALTIME"), refused.getMessage());
                closed = false;
                refusedClose++;
            }
            armer.join();
            if (closed && armed.get() == 1) {
                acceptedThenClosed++;
            } else if (armed.get() == 2) {
                refusedByTheList++;
            }
            if (!closed) {
                t.cancel();
                c.close();
            }
        }
        assertEquals(0, acceptedThenClosed, "timers accepted by a context that then closed");
        assertEquals(300, refusedByTheList + refusedClose, "every round ends one way or the other");
    }

    @Test
    void aMillionPendingTimersArmAndCancel() {
        clocks.enable(ClockType.VIRTUAL, true);
        int n = 1_000_000;
        AioTimer[] many = new AioTimer[n];
        long base = clocks.nowNs(ClockType.VIRTUAL) + HOUR;
        for (int i = 0; i < n; i++) {
            many[i] = ctx.newTimer(ClockType.VIRTUAL, TimeScale.NS, () -> { });
            many[i].modNs(base + (i * 7919L) % n);
        }
        AtomicInteger fired = new AtomicInteger();
        AioTimer first = timer(ClockType.VIRTUAL, TimeScale.NS, fired::incrementAndGet);
        first.modNs(base - 1);
        for (int i = 0; i < n; i += 2) {
            many[i].cancel();
        }
        clocks.advanceVirtual(HOUR);
        // Only the first, and the odd ones due by now, fire.
        assertTrue(ctx.poll(false));
        assertEquals(1, fired.get());
        for (int i = 1; i < n; i += 2) {
            many[i].cancel();
        }
    }
}
