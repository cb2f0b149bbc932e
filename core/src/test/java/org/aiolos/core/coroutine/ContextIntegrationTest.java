package org.aiolos.core.coroutine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.aiolos.api.AioContext;
import org.aiolos.api.ClockType;
import org.aiolos.api.IOThread;
import org.aiolos.api.coroutine.CoSleep;
import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;
import org.aiolos.core.Aiolos;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.clock.ClockGroup;

/**
 * aio_co_schedule, aio_co_enter, aio_co_wake, aio_co_reschedule_self (QEMU's
 * {@code util/async.c}) and sleep ({@code util/qemu-coroutine-sleep.c}).
 */
class ContextIntegrationTest {

    /** Makes the test thread the home thread (and current context) of {@code ctx}. */
    private static AioContext home(AioContext ctx) {
        ctx.poll(false);
        assertSame(ctx, AioContext.current());
        return ctx;
    }

    @BothBackends
    void scheduleFromAnotherThreadRunsInSchedulingOrder(String backend) throws Exception {
        CoTests.use(backend);
        try (AioContext ctx = home(CoTests.newContext("sched-order"))) {
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            List<AioContext> seen = Collections.synchronizedList(new ArrayList<>());
            List<Coroutine> cos = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                int n = i;
                cos.add(Coroutines.create("s" + i, () -> {
                    order.add(n);
                    seen.add(AioContext.current());
                }));
            }
            Thread t = new Thread(() -> cos.forEach(ctx::coSchedule));
            t.start();
            t.join();
            assertEquals("aio_co_schedule", cos.get(0).scheduledBy());
            CoTests.pollUntil(ctx, () -> order.size() == 5, 5_000);
            assertEquals(List.of(0, 1, 2, 3, 4), order, "the bottom half reverses the LIFO into FIFO");
            assertTrue(seen.stream().allMatch(c -> c == ctx));
            assertTrue(cos.stream().allMatch(c -> c.scheduledBy() == null && c.context() == ctx));
        }
    }

    @BothBackends
    void secondScheduleAndEnterOfAScheduledCoroutineFail(String backend) {
        CoTests.use(backend);
        try (AioContext ctx = home(CoTests.newContext("double"))) {
            int[] runs = new int[1];
            Coroutine co = Coroutines.create("twice", () -> runs[0]++);
            ctx.coSchedule(co);
            IllegalStateException again = assertThrows(IllegalStateException.class, () -> ctx.coSchedule(co));
            assertTrue(again.getMessage().contains("'twice' was already scheduled in 'aio_co_schedule'"),
                    again.getMessage());
            IllegalStateException enter = assertThrows(IllegalStateException.class, co::enter);
            assertTrue(enter.getMessage().contains("already scheduled in 'aio_co_schedule'"), enter.getMessage());
            CoTests.pollUntil(ctx, () -> runs[0] == 1, 5_000);
            ctx.poll(false);
            assertEquals(1, runs[0]);
        }
    }

    @BothBackends
    void closeRefusesWhileACoroutineIsScheduled(String backend) {
        CoTests.use(backend);
        AioContext ctx = home(CoTests.newContext("closing"));
        boolean[] ran = new boolean[1];
        ctx.coSchedule(Coroutines.create("late", () -> ran[0] = true));
        IllegalStateException e = assertThrows(IllegalStateException.class, ctx::close);
        assertTrue(e.getMessage().contains("coroutine 'late' scheduled by 'aio_co_schedule'"), e.getMessage());
        CoTests.pollUntil(ctx, () -> ran[0], 5_000);
        ctx.close();
        assertNull(AioContext.current());
    }

    @BothBackends
    void coEnterQueuesBehindACoroutineOfTheSameContext(String backend) {
        CoTests.use(backend);
        try (AioContext ctx = home(CoTests.newContext("co-enter"))) {
            List<String> order = new ArrayList<>();
            Coroutine b = Coroutines.create("B", () -> order.add("B"));
            Coroutine a = Coroutines.create("A", () -> {
                ctx.coEnter(b);
                order.add("A continues");
                Coroutines.yieldNow();
                order.add("A again");
            });
            ctx.coEnter(a); // outside any coroutine, same context: entered at once
            assertEquals(List.of("A continues", "B"), order);
            assertSame(ctx, b.context());
            IllegalStateException self = assertThrows(IllegalStateException.class, () -> {
                Coroutine[] me = new Coroutine[1];
                me[0] = Coroutines.create("selfish", () -> ctx.coEnter(me[0]));
                me[0].enter();
            });
            assertTrue(self.getMessage().contains("cannot wake itself"), self.getMessage());
        }
    }

    @BothBackends
    void coEnterFromAnotherThreadSchedules(String backend) throws Exception {
        CoTests.use(backend);
        try (AioContext ctx = home(CoTests.newContext("remote-enter"))) {
            AioContext[] ranIn = new AioContext[1];
            Coroutine co = Coroutines.create("remote", () -> ranIn[0] = AioContext.current());
            Thread t = new Thread(() -> ctx.coEnter(co));
            t.start();
            t.join();
            assertEquals("aio_co_schedule", co.scheduledBy());
            CoTests.pollUntil(ctx, co::isFinished, 5_000);
            assertSame(ctx, ranIn[0]);
        }
    }

    /**
     * A coroutine entered from another runs on the entering thread's stack (continuation
     * backend): an IOThread's stack holds thousands of levels, where the JVM's default
     * 1 MiB overflowed at about 500.
     */
    @BothBackends
    void coroutinesNestThreeThousandDeepOnAnIOThread(String backend) throws Exception {
        CoTests.use(backend);
        IOThread io = Aiolos.newIOThread("nest-io");
        io.start();
        try {
            java.util.concurrent.CompletableFuture<Integer> deepest = new java.util.concurrent.CompletableFuture<>();
            io.context().coSchedule(Coroutines.create("nest-0", () -> nest(1, 3_000, deepest)));
            assertEquals(3_000, deepest.get(30, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            io.close();
        }
    }

    private static void nest(int depth, int max, java.util.concurrent.CompletableFuture<Integer> deepest) {
        if (depth == max) {
            deepest.complete(depth);
            return;
        }
        try {
            Coroutines.create("nest-" + depth, () -> nest(depth + 1, max, deepest)).enter();
        } catch (Throwable t) {
            deepest.completeExceptionally(t);
        }
    }

    @BothBackends
    void wakeReturnsToTheContextWhereItLastRan(String backend) throws Exception {
        CoTests.use(backend);
        IOThread io = Aiolos.newIOThread("wake-io");
        io.start();
        try {
            List<AioContext> seen = Collections.synchronizedList(new ArrayList<>());
            Coroutine co = Coroutines.create("sleeper", () -> {
                seen.add(AioContext.current());
                Coroutines.yieldNow();
                seen.add(AioContext.current());
            });
            io.context().coSchedule(co);
            CoTests.waitUntil(() -> seen.size() == 1 && !co.isEntered(), 5_000);
            co.wake(); // from a thread without a context: scheduled back to io's context
            CoTests.waitUntil(co::isFinished, 5_000);
            assertEquals(List.of(io.context(), io.context()), seen);
        } finally {
            io.close();
        }
    }

    @BothBackends
    void rescheduleSelfMovesTheCoroutineBetweenThreads(String backend) throws Exception {
        CoTests.use(backend);
        IOThread one = Aiolos.newIOThread("hop-1");
        IOThread two = Aiolos.newIOThread("hop-2");
        one.start();
        two.start();
        try {
            List<AioContext> seen = Collections.synchronizedList(new ArrayList<>());
            List<Boolean> home = Collections.synchronizedList(new ArrayList<>());
            Coroutine co = Coroutines.create("hopper", () -> {
                seen.add(AioContext.current());
                home.add(one.context().inHomeThread());
                Coroutines.rescheduleSelf(two.context());
                seen.add(AioContext.current());
                home.add(two.context().inHomeThread());
                Coroutines.rescheduleSelf(two.context()); // already there: no-op
                Coroutines.rescheduleSelf(one.context());
                seen.add(AioContext.current());
                home.add(one.context().inHomeThread());
            });
            one.context().coSchedule(co);
            CoTests.waitUntil(co::isFinished, 5_000);
            assertEquals(List.of(one.context(), two.context(), one.context()), seen);
            assertSame(one.context(), co.context());
            assertEquals(List.of(true, true, true), home, "each context sees the coroutine in its home thread");
            IllegalStateException outside = assertThrows(IllegalStateException.class,
                    () -> Coroutines.rescheduleSelf(one.context()));
            assertTrue(outside.getMessage().contains("must be called from a coroutine"));
        } finally {
            one.close();
            two.close();
        }
    }

    @BothBackends
    void failureOfAScheduledCoroutineIsReportedAndTheOthersRun(String backend) {
        CoTests.use(backend);
        List<Throwable> reported = Collections.synchronizedList(new ArrayList<>());
        ContextOptions opts = ContextOptions.defaults("failing").withFailureHandler((c, src, t) -> reported.add(t));
        try (AioContext ctx = home(Aiolos.newContext(opts))) {
            List<String> ran = new ArrayList<>();
            ctx.coSchedule(Coroutines.create("first", () -> ran.add("first")));
            ctx.coSchedule(Coroutines.create("bad", () -> {
                throw new ArithmeticException("bad coroutine");
            }));
            ctx.coSchedule(Coroutines.create("third", () -> ran.add("third")));
            CoTests.pollUntil(ctx, () -> ran.size() == 2, 5_000);
            assertEquals(List.of("first", "third"), ran);
            assertEquals(1, reported.size());
            assertEquals("bad coroutine", reported.get(0).getMessage());
            boolean[] later = new boolean[1];
            ctx.coSchedule(Coroutines.create(() -> later[0] = true));
            CoTests.pollUntil(ctx, () -> later[0], 5_000);
        }
    }

    @BothBackends
    void sleepResumesOnTheContextTimer(String backend) {
        CoTests.use(backend);
        try (AioContext ctx = home(CoTests.newContext("sleep"))) {
            long[] slept = new long[1];
            Coroutine co = Coroutines.create("nap", () -> {
                long t0 = System.nanoTime();
                Coroutines.sleepNs(ClockType.REALTIME, 20_000_000);
                slept[0] = System.nanoTime() - t0;
            });
            co.enter();
            assertEquals("co_sleep_ns", co.scheduledBy());
            CoTests.pollUntil(ctx, co::isFinished, 5_000);
            assertTrue(slept[0] >= 20_000_000, "slept " + slept[0] + " ns");
            assertEquals(-1, ctx.computeTimeout(), "no timer left behind");
        }
    }

    @BothBackends
    void sleepOnTheVirtualClockWakesWhenTheClockIsAdvanced(String backend) {
        CoTests.use(backend);
        ClockGroup clocks = new ClockGroup();
        clocks.enable(ClockType.VIRTUAL, true);
        try (AioContext ctx = home(Aiolos.newContext(ContextOptions.defaults("virtual").withClocks(clocks)))) {
            Coroutine co = Coroutines.create("virtual-nap", () -> Coroutines.sleepNs(ClockType.VIRTUAL, 1_000_000_000_000L));
            co.enter();
            ctx.poll(false);
            assertFalse(co.isFinished());
            // An enabled virtual clock also runs with real time; a second of margin covers that.
            clocks.advanceVirtual(999_000_000_000L);
            ctx.poll(false);
            assertFalse(co.isFinished());
            clocks.advanceVirtual(1_000_000_000L);
            CoTests.pollUntil(ctx, co::isFinished, 5_000);
        }
    }

    @BothBackends
    void wakeEndsASleepEarlyAndASleeperCannotBeEnteredOrScheduled(String backend) {
        CoTests.use(backend);
        try (AioContext ctx = home(CoTests.newContext("early"))) {
            CoSleep w = Coroutines.newSleep();
            Coroutine co = Coroutines.create("long-nap", () -> w.sleepNs(ClockType.REALTIME, 60_000_000_000L));
            co.enter();
            IllegalStateException enter = assertThrows(IllegalStateException.class, co::enter);
            assertTrue(enter.getMessage().contains("'co_sleep_ns'") && enter.getMessage().contains("sleeping"),
                    enter.getMessage());
            IllegalStateException sched = assertThrows(IllegalStateException.class, () -> ctx.coSchedule(co));
            assertTrue(sched.getMessage().contains("already scheduled in 'co_sleep_ns'"), sched.getMessage());
            IllegalStateException second = assertThrows(IllegalStateException.class, () ->
                    Coroutines.create(() -> w.sleepNs(ClockType.REALTIME, 1)).enter());
            assertTrue(second.getMessage().contains("already sleeps"), second.getMessage());
            long t0 = System.nanoTime();
            ctx.scheduleOneshot("early-wake", w::wake);
            CoTests.pollUntil(ctx, co::isFinished, 5_000);
            assertTrue(System.nanoTime() - t0 < 30_000_000_000L);
            w.wake(); // nobody sleeps: nothing happens
            assertEquals(-1, ctx.computeTimeout(), "the sleep's timer was cancelled");
        }
    }

    @BothBackends
    void sleepNeedsACoroutineAndAContext(String backend) {
        CoTests.use(backend);
        IllegalStateException outside = assertThrows(IllegalStateException.class,
                () -> Coroutines.sleepNs(ClockType.REALTIME, 1));
        assertTrue(outside.getMessage().contains("coroutine"));
        IllegalStateException noCtx = assertThrows(IllegalStateException.class,
                () -> Coroutines.create("ctxless", () -> Coroutines.sleepNs(ClockType.REALTIME, 1)).enter());
        assertTrue(noCtx.getMessage().contains("without an AioContext"), noCtx.getMessage());
    }
}
