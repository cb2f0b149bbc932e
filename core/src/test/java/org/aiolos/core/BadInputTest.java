package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.ClockType;
import org.aiolos.api.ExternalLoopSource;
import org.aiolos.api.TimeScale;
import org.aiolos.api.coroutine.Coroutines;
import org.aiolos.linux.Fds;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Bad input at the context's entry points that no other test tries (docs/reliability.md):
 * every call fails with an exception that says what was wrong, and the context keeps working.
 */
class BadInputTest {
    private final TestContexts contexts = new TestContexts();

    @AfterEach
    void tearDown() {
        contexts.closeAll();
        contexts.assertNoFailures();
    }

    /** A oneshot bottom half still runs: the context works after the bad call. */
    private static void assertStillWorks(AiolosContext ctx) {
        AtomicInteger ran = new AtomicInteger();
        ctx.scheduleOneshot("still-works", ran::incrementAndGet);
        assertTrue(ctx.poll(false), "poll after the bad call made no progress");
        assertEquals(1, ran.get());
    }

    private static <T extends Throwable> T assertFails(Class<T> type, Executable call, String... words) {
        T e = assertThrows(type, call);
        for (String w : words) {
            assertTrue(String.valueOf(e.getMessage()).contains(w),
                    "message '" + e.getMessage() + "' does not mention '" + w + "'");
        }
        return e;
    }

    @Test
    void nullArgumentsToTheFactoriesAreRejectedNamingTheArgument() {
        AiolosContext ctx = contexts.open("nulls");
        assertFails(NullPointerException.class, () -> ctx.newTimer(null, TimeScale.MS, () -> { }), "clock");
        assertFails(NullPointerException.class, () -> ctx.newTimer(ClockType.VIRTUAL, null, () -> { }), "scale");
        assertFails(NullPointerException.class, () -> ctx.newTimer(ClockType.VIRTUAL, TimeScale.MS, null), "callback");
        assertFails(NullPointerException.class, () -> ctx.newTimer(ClockType.VIRTUAL, TimeScale.MS, 0, null),
                "callback");
        assertFails(NullPointerException.class, () -> ctx.setEventNotifier(null, () -> { }, null, null), "notifier");
        assertFails(NullPointerException.class, () -> ctx.setEventNotifierPoll(null, null, null), "notifier");
        assertFails(NullPointerException.class, () -> Aiolos.newContext((String) null), "name");
        assertFails(NullPointerException.class, () -> Aiolos.newContext((ContextOptions) null), "options");
        assertFails(NullPointerException.class, () -> ContextOptions.defaults(null), "name");
        assertFails(NullPointerException.class, () -> contexts.options("x").withPollParams(null), "pollParams");
        assertStillWorks(ctx);
    }

    @Test
    void everyMethodOfAClosedContextFailsNamingTheOperationAndTheContext() throws Exception {
        AiolosContext ctx = contexts.open("gone");
        BottomHalf bh = ctx.newBottomHalf("made-before-close", () -> { });
        bh.delete();
        int[] p = Fds.pipe();
        try {
            ctx.close();
            assertDoesNotThrow(ctx::close, "a second close is a no-op");
            assertFails(IllegalStateException.class, () -> ctx.poll(false), "poll", "'gone'", "closed");
            assertFails(IllegalStateException.class, () -> ctx.scheduleOneshot("x", () -> { }), "'gone'", "closed");
            assertFails(IllegalStateException.class, () -> ctx.newBottomHalf("x", () -> { }), "newBottomHalf", "closed");
            assertFails(IllegalStateException.class, () -> ctx.setFdHandler(p[0], () -> { }, null), "setFdHandler",
                    "closed");
            assertFails(IllegalStateException.class, () -> ctx.removeFdHandler(p[0]), "removeFdHandler", "closed");
            assertFails(IllegalStateException.class, () -> ctx.setFdPollHooks(p[0], null, null), "setFdPollHooks",
                    "closed");
            assertFails(IllegalStateException.class, () -> ctx.newTimer(ClockType.VIRTUAL, TimeScale.MS, () -> { }),
                    "newTimer", "closed");
            assertFails(IllegalStateException.class, () -> ctx.setPollParams(1, 2, 2), "setPollParams", "closed");
            assertFails(IllegalStateException.class, () -> ctx.setAioParams(1), "setAioParams", "closed");
            assertFails(IllegalStateException.class, () -> ctx.setThreadPoolParams(0, 4), "setThreadPoolParams",
                    "closed");
            assertFails(IllegalStateException.class, ctx::threadPool, "threadPool", "closed");
            assertFails(IllegalStateException.class, ctx::diskIo, "diskIo", "closed");
            assertFails(IllegalStateException.class, ctx::externalLoopSource, "externalLoopSource", "closed");
        } finally {
            Fds.close(p[0]);
            Fds.close(p[1]);
        }
        assertStillWorks(contexts.open("next"));
    }

    @Test
    void hugeParametersAreAcceptedAndSaturateInsteadOfWrapping() {
        AiolosContext ctx = contexts.open("huge");
        ctx.setPollParams(Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE);
        assertEquals(Long.MAX_VALUE, ctx.pollParams().maxNs());
        ctx.setAioParams(Long.MAX_VALUE);
        assertEquals(Long.MAX_VALUE, ctx.aioMaxBatch());
        assertStillWorks(ctx);
        ctx.setPollParams(0, 0, 0);

        contexts.clocks().enable(ClockType.VIRTUAL, true);
        AtomicInteger fired = new AtomicInteger();
        AioTimer far = ctx.newTimer(ClockType.VIRTUAL, TimeScale.MS, fired::incrementAndGet);
        far.mod(Long.MAX_VALUE); // Long.MAX_VALUE ms overflows ns: saturates to "never", not the past
        assertTrue(far.isPending());
        assertEquals(Long.MAX_VALUE, far.expireTimeNs());
        contexts.clocks().advanceVirtual(1_000_000_000L);
        TestContexts.drain(ctx);
        assertEquals(0, fired.get(), "a saturated deadline fired");
        far.mod(Long.MIN_VALUE / 2); // a deadline far in the past saturates the other way and fires now
        assertTrue(ctx.poll(false));
        assertEquals(1, fired.get());
        far.cancel();
        assertStillWorks(ctx);
    }

    @Test
    void aForeignButOpenFdIsAcceptedByDesignAndRemovingItLeavesItOpen() throws Exception {
        AiolosContext ctx = contexts.open("foreign");
        int[] p = Fds.pipe(); // stands for a descriptor some other component owns
        try {
            AtomicInteger readable = new AtomicInteger();
            ctx.setFdHandler(p[0], readable::incrementAndGet, null);
            try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
                Fds.write(p[1], a.allocate(1), 1);
            }
            assertTrue(ctx.poll(false));
            assertTrue(readable.get() > 0);
            ctx.removeFdHandler(p[0]);
            ctx.removeFdHandler(p[0]); // removing twice is a no-op
            assertTrue(Fds.isOpen(p[0]), "the context closed a descriptor it does not own");
            assertStillWorks(ctx);
        } finally {
            Fds.close(p[0]);
            Fds.close(p[1]);
        }
    }

    @Test
    void externalLoopCallsFromTheWrongThreadAreRejectedNamingTheHomeThread() throws Exception {
        AiolosContext ctx = contexts.open("external");
        assertFalse(ctx.poll(false)); // this thread becomes the home thread
        ExternalLoopSource src = ctx.externalLoopSource();
        for (Supplier<Object> call : java.util.List.<Supplier<Object>>of(src::prepare, src::check, src::dispatch)) {
            CompletableFuture<Throwable> f = new CompletableFuture<>();
            Thread t = Thread.ofPlatform().name("intruder").start(() -> {
                try {
                    call.get();
                    f.complete(null);
                } catch (Throwable e) {
                    f.complete(e);
                }
            });
            t.join();
            Throwable e = f.get(5, TimeUnit.SECONDS);
            assertTrue(e instanceof IllegalStateException, "expected IllegalStateException, got " + e);
            assertTrue(e.getMessage().contains("home thread") && e.getMessage().contains("intruder"), e.getMessage());
        }
        assertStillWorks(ctx);
    }

    @Test
    void coroutineMisuseAtTheEntryPointsSaysWhat() {
        AiolosContext ctx = contexts.open("co");
        assertThrows(NullPointerException.class, () -> Coroutines.create("x", null));
        assertFails(IllegalStateException.class, () -> Coroutines.sleepNs(ClockType.REALTIME, 1), "coroutine");
        ctx.close();
        assertThrows(IllegalStateException.class, () -> ctx.coSchedule(Coroutines.create("late", () -> { })));
        assertStillWorks(contexts.open("co-next"));
    }

    @Test
    void clockMisuseIsRejectedAndTheClockIsUnchanged() {
        AiolosContext ctx = contexts.open("clock");
        var clocks = contexts.clocks();
        clocks.advanceVirtual(Long.MAX_VALUE - 10);
        long now = clocks.nowNs(ClockType.VIRTUAL);
        assertFails(IllegalArgumentException.class, () -> clocks.advanceVirtual(Long.MAX_VALUE), "overflow");
        assertEquals(now, clocks.nowNs(ClockType.VIRTUAL), "a rejected advance moved the clock");
        assertFails(IllegalArgumentException.class, () -> clocks.advanceVirtual(-1), "forward");
        assertFails(IllegalArgumentException.class, () -> clocks.enable(ClockType.HOST, false), "always runs");
        assertThrows(NullPointerException.class, () -> clocks.nowNs(null));
        assertStillWorks(ctx);
    }

    @Test
    void timerAndBottomHalfUseAfterTheContextClosedIsRejected() {
        AiolosContext ctx = contexts.open("after");
        AioTimer t = ctx.newTimer(ClockType.REALTIME, TimeScale.MS, () -> { });
        t.cancel();
        t.cancel(); // cancelling twice is a no-op
        BottomHalf bh = ctx.newBottomHalf("bh", () -> { });
        bh.delete();
        bh.delete(); // deleting twice is a no-op
        bh.cancel(); // cancelling a deleted bottom half is a no-op
        ctx.close();
        assertFails(IllegalStateException.class, () -> t.modNs(1), "'after'", "closed");
        assertFails(IllegalStateException.class, () -> bh.schedule(), "deleted");
        assertStillWorks(contexts.open("after-next"));
    }

    @Test
    void badCallsLeakNoDescriptors() throws Exception {
        AiolosContext warm = contexts.open("warm");
        assertStillWorks(warm);
        warm.close();
        long before = Fds.openFdCount();
        for (int i = 0; i < 50; i++) {
            AiolosContext ctx = contexts.open("leak-" + i);
            assertThrows(IllegalArgumentException.class, () -> ctx.setFdHandler(-1, () -> { }, null));
            assertThrows(IllegalArgumentException.class, () -> ctx.setPollParams(-1, 0, 0));
            assertThrows(NullPointerException.class, () -> ctx.newTimer(null, TimeScale.NS, () -> { }));
            assertStillWorks(ctx);
            ctx.close();
            assertThrows(IllegalStateException.class, () -> ctx.poll(false));
        }
        assertEquals(before, Fds.openFdCount(), "descriptors leaked");
    }

    /** Disk I/O is home-thread work: the refusal names the home thread, or says there is none yet. */
    @Test
    void diskIoFromAnotherThreadNamesTheHomeThreadOrItsAbsence() throws Exception {
        AioContext ctx = contexts.open("disk-home");
        org.aiolos.api.diskio.DiskFile file = org.aiolos.api.diskio.DiskFile.buffered(0);
        IllegalStateException none = assertThrows(IllegalStateException.class,
                () -> ctx.diskIo().flush(file, r -> { }));
        assertEquals("disk I/O of AioContext 'disk-home' must be submitted from its home thread, and it has none yet: "
                + "the first thread that polls the context becomes it; not from '" + Thread.currentThread().getName()
                + "'", none.getMessage());

        CompletableFuture<Void> polled = new CompletableFuture<>();
        Thread home = Thread.ofPlatform().name("disk-home-thread").start(() -> {
            ctx.poll(false);
            polled.complete(null);
            try {
                Thread.sleep(60_000); // stays alive, and so stays the home thread
            } catch (InterruptedException e) {
                // the test is over
            }
        });
        try {
            polled.get(10, TimeUnit.SECONDS);
            IllegalStateException other = assertThrows(IllegalStateException.class,
                    () -> ctx.diskIo().flush(file, r -> { }));
            assertEquals("disk I/O of AioContext 'disk-home' must be submitted from its home thread "
                    + "'disk-home-thread'; not from '" + Thread.currentThread().getName() + "'", other.getMessage());
        } finally {
            home.interrupt();
            home.join();
        }
    }
}
