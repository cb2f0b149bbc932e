package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.ReentrancyGuard;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Bottom halves: QEMU's {@code aio_bh_*} and {@code qemu_bh_*} in {@code util/async.c}. */
class BottomHalfTest {
    private final TestContexts contexts = new TestContexts();
    private AiolosContext ctx;

    @BeforeEach
    void setUp() {
        ctx = contexts.open("bh");
        // A new context starts notified (its notifier registration ends with a notify);
        // the first non-blocking poll consumes that and makes no progress.
        assertFalse(ctx.poll(false));
    }

    @AfterEach
    void tearDown() {
        contexts.assertNoFailures();
        contexts.closeAll();
    }

    @Test
    void scheduledBottomHalfRunsOnceAndCountsAsProgress() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf("counter", runs::incrementAndGet);
        bh.schedule();
        bh.schedule(); // still pending: one run
        assertEquals(0, ctx.computeTimeout(), "a scheduled BH makes the timeout 0");
        assertTrue(ctx.poll(false));
        assertEquals(1, runs.get());
        assertFalse(ctx.poll(false));
        assertEquals(1, runs.get());
        bh.delete();
        assertFalse(ctx.poll(false));
    }

    @Test
    void batchRunsInReverseSchedulingOrder() {
        List<String> order = new ArrayList<>();
        BottomHalf a = ctx.newBottomHalf("a", () -> order.add("a"));
        BottomHalf b = ctx.newBottomHalf("b", () -> order.add("b"));
        BottomHalf c = ctx.newBottomHalf("c", () -> order.add("c"));
        a.schedule();
        b.schedule();
        c.schedule();
        assertTrue(ctx.poll(false));
        assertEquals(List.of("c", "b", "a"), order, "QEMU's BH list is LIFO within a batch");
        a.delete();
        b.delete();
        c.delete();
        TestContexts.drain(ctx);
    }

    @Test
    void selfReschedulingBottomHalfRunsOncePerPoll() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf[] self = new BottomHalf[1];
        self[0] = ctx.newBottomHalf("again", () -> {
            if (runs.incrementAndGet() < 10) {
                self[0].schedule();
            }
        });
        self[0].schedule();
        for (int i = 1; i <= 10; i++) {
            assertTrue(ctx.poll(false));
            assertEquals(i, runs.get(), "rescheduled from its callback, it runs in the next poll only");
        }
        assertFalse(ctx.poll(false));
        self[0].delete();
        ctx.poll(false);
    }

    @Test
    void idleBottomHalfIsNotProgressAndBoundsTheTimeoutTo10ms() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf("idle", runs::incrementAndGet);
        bh.scheduleIdle();
        assertEquals(10_000_000L, ctx.computeTimeout(), "an idle BH bounds the timeout, it does not zero it");
        // Scheduling notified the context, so this blocking poll does not sleep.
        assertFalse(ctx.poll(true), "an idle BH does not count as progress");
        assertEquals(1, runs.get());
        assertEquals(-1, ctx.computeTimeout(), "IDLE is cleared on dequeue");
        bh.schedule();
        assertEquals(0, ctx.computeTimeout(), "schedule must say idle again to be idle");
        assertTrue(ctx.poll(false));
        bh.delete();
        ctx.poll(false);
    }

    @Test
    void cancelledBottomHalfIsSkippedAndCanBeScheduledAgain() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf("cancel", runs::incrementAndGet);
        bh.schedule();
        bh.cancel();
        assertEquals(-1, ctx.computeTimeout());
        assertFalse(ctx.poll(false));
        assertEquals(0, runs.get());
        bh.schedule();
        bh.cancel();
        bh.schedule(); // still pending: not re-linked, runs once
        assertTrue(ctx.poll(false));
        assertEquals(1, runs.get());
        bh.delete();
        ctx.poll(false);
    }

    @Test
    void deletedBottomHalfNeverRunsAndRejectsLaterSchedules() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf("doomed", runs::incrementAndGet);
        bh.schedule();
        bh.delete();
        assertTrue(bh.isDeleted());
        IllegalStateException e = assertThrows(IllegalStateException.class, bh::schedule);
        assertTrue(e.getMessage().contains("'doomed'") && e.getMessage().contains("deleted"), e.getMessage());
        assertThrows(IllegalStateException.class, bh::scheduleIdle);
        bh.delete(); // idempotent
        assertFalse(ctx.poll(false), "a deleted BH is discarded without progress");
        assertEquals(0, runs.get());
        // The context keeps working.
        AtomicInteger other = new AtomicInteger();
        ctx.scheduleOneshot("after", other::incrementAndGet);
        assertTrue(ctx.poll(false));
        assertEquals(1, other.get());
    }

    @Test
    void oneshotRunsExactlyOnce() {
        AtomicInteger runs = new AtomicInteger();
        ctx.scheduleOneshot("once", runs::incrementAndGet);
        assertTrue(ctx.poll(false));
        assertFalse(ctx.poll(false));
        assertEquals(1, runs.get());
    }

    @Test
    void nestedPollRunsTheParentsRemainingBottomHalvesFirst() {
        List<String> order = new ArrayList<>();
        BottomHalf late = ctx.newBottomHalf("late", () -> order.add("late"));
        BottomHalf first = ctx.newBottomHalf("first", () -> order.add("first"));
        BottomHalf nester = ctx.newBottomHalf("nester", () -> {
            order.add("nester");
            late.schedule();
            assertTrue(ctx.poll(false), "the nested poll runs 'first' and 'late'");
            order.add("nested-done");
        });
        first.schedule();
        nester.schedule(); // LIFO: nester runs before first
        assertTrue(ctx.poll(false));
        assertEquals(List.of("nester", "first", "late", "nested-done"), order);
        assertFalse(ctx.poll(false), "nothing left for the outer poll");
        for (BottomHalf bh : List.of(late, first, nester)) {
            bh.delete();
        }
        ctx.poll(false);
    }

    @Test
    void guardIsEngagedWhileTheCallbackRunsAndRestoredAfter() {
        ReentrancyGuard guard = new ReentrancyGuard();
        boolean[] seen = new boolean[1];
        BottomHalf bh = ctx.newBottomHalf("guarded", () -> seen[0] = guard.isEngaged(), guard);
        bh.schedule();
        ctx.poll(false);
        assertTrue(seen[0]);
        assertFalse(guard.isEngaged());
        bh.delete();
        ctx.poll(false);
    }

    @Test
    void throwingCallbackIsReportedAndTheLoopGoesOn() {
        TestContexts local = new TestContexts();
        AiolosContext c = local.open("throws");
        AtomicInteger after = new AtomicInteger();
        BottomHalf boom = c.newBottomHalf("boom", () -> {
            throw new IllegalStateException("boom");
        });
        BottomHalf ok = c.newBottomHalf("ok", after::incrementAndGet);
        ok.schedule();
        boom.schedule();
        assertTrue(c.poll(false));
        assertEquals(1, after.get(), "the BH after the failing one still ran");
        assertEquals(1, local.failures().size());
        assertEquals("boom", local.failures().get(0).getMessage());
        assertEquals(1, c.stats().callbackFailures());
        boom.delete();
        ok.delete();
        c.poll(false);
        local.closeAll();
    }

    @Test
    void closeWithAScheduledBottomHalfFailsNamingItAndTheContextStaysUsable() {
        TestContexts local = new TestContexts();
        AiolosContext c = local.open("leaky");
        BottomHalf pending = c.newBottomHalf("forgotten", () -> { });
        pending.schedule();
        IllegalStateException e = assertThrows(IllegalStateException.class, c::close);
        assertTrue(e.getMessage().contains("'forgotten'"), e.getMessage());
        assertTrue(c.poll(false), "still open and running");
        pending.schedule();
        pending.cancel(); // cancelled but still linked: QEMU aborts here, we refuse to close
        assertThrows(IllegalStateException.class, c::close);
        pending.delete();
        c.close();
        assertThrows(IllegalStateException.class, () -> c.poll(false));
        assertThrows(IllegalStateException.class, () -> c.scheduleOneshot("late", () -> { }));
    }

    @Test
    void nullArgumentsAreRejected() {
        assertThrows(NullPointerException.class, () -> ctx.newBottomHalf(null, () -> { }));
        assertThrows(NullPointerException.class, () -> ctx.newBottomHalf("x", null));
        assertThrows(NullPointerException.class, () -> ctx.scheduleOneshot("x", null));
    }
}
