package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.aiolos.api.PollParams;
import org.aiolos.linux.EventFd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Adaptive polling ({@code run_poll_handlers} and {@code adjust_polling_time} in QEMU's
 * {@code util/aio-posix.c}, per handler since QEMU 10.0): a virtqueue-like handler whose poll
 * callback checks a
 * flag in memory, the way a device ring is checked without a syscall.
 */
class AdaptivePollingTest {
    private final TestContexts contexts = new TestContexts();
    private AiolosContext ctx;
    private EventFd kick;
    private final AtomicBoolean pending = new AtomicBoolean();
    private final AtomicInteger fdReads = new AtomicInteger();
    private final AtomicInteger pollReadies = new AtomicInteger();
    private final AtomicInteger pollCalls = new AtomicInteger();
    private final List<String> hooks = new ArrayList<>();

    @BeforeEach
    void setUp() {
        ctx = contexts.open("polling");
        ctx.poll(false);
        kick = EventFd.open(false);
        ctx.setEventNotifier(kick, () -> {
            kick.testAndClear();
            if (pending.getAndSet(false)) {
                fdReads.incrementAndGet();
            }
        }, () -> {
            pollCalls.incrementAndGet();
            return pending.get();
        }, () -> {
            if (pending.getAndSet(false)) {
                pollReadies.incrementAndGet();
            }
        });
        ctx.setEventNotifierPoll(kick, () -> hooks.add("begin"), () -> hooks.add("end"));
        // Registering notified the context; with every handler pollable, that poll looks
        // at no fd (aio_poll in util/aio-posix.c), so consume it before the tests start.
        assertFalse(ctx.poll(false));
    }

    @AfterEach
    void tearDown() {
        ctx.setEventNotifier(kick, null, null, null);
        contexts.assertNoFailures();
        contexts.closeAll();
        kick.close();
    }

    private void submit() {
        pending.set(true);
        kick.set();
    }

    @Test
    void pollingIsOffByDefaultAndAllPollableNonBlockingPollExaminesNoFd() {
        submit();
        assertFalse(ctx.poll(false), "every handler can poll and no poll time is set: no fd is examined");
        assertEquals(0, fdReads.get());
        assertTrue(ctx.poll(true), "a blocking poll waits on the fd");
        assertEquals(1, fdReads.get());
        assertEquals(0, ctx.pollNsOf(kick.fd()), "poll-max-ns 0: the poll time never grows");
        assertEquals(0, pollReadies.get());
    }

    @Test
    void pollTimeGrowsFrom4usAndBusyPollingFindsWorkWithoutTheFd() throws Exception {
        ctx.setPollParams(10_000_000_000L, 0, 0);
        ctx.poll(false);
        submit();
        assertTrue(ctx.poll(true));
        assertEquals(1, fdReads.get());
        assertEquals(4_000, ctx.pollNsOf(kick.fd()), "first step is 4 us");
        // Work appears in memory only; the eventfd is never written.
        pending.set(true);
        assertTrue(ctx.poll(true), "busy polling saw it");
        assertEquals(1, pollReadies.get());
        assertEquals(1, fdReads.get());
        assertTrue(hooks.contains("begin"), "entering polling mode calls poll-begin");
        long before = ctx.pollNsOf(kick.fd());
        assertTrue(before == 4_000 || before == 8_000, "unchanged or doubled by the busy-poll round: " + before);
        // A wait longer than the poll time but shorter than the max doubles it.
        Thread late = Thread.ofPlatform().start(() -> {
            NotifyTest.sleepMillis(5);
            submit();
        });
        assertTrue(ctx.poll(true));
        late.join();
        assertEquals(2 * before, ctx.pollNsOf(kick.fd()));
        assertTrue(hooks.contains("end"), "blocking leaves polling mode and calls poll-end");
    }

    @Test
    void aWaitLongerThanTheMaximumShrinksThePollTime() throws Exception {
        ctx.setPollParams(5_000_000, 0, 2);
        ctx.poll(false);
        // Grow to 4 us first; a wait over the 5 ms max (a slow start) would leave it at 0.
        for (int i = 0; i < 100 && ctx.pollNsOf(kick.fd()) != 4_000; i++) {
            submit();
            ctx.poll(true);
        }
        assertEquals(4_000, ctx.pollNsOf(kick.fd()));
        Thread late = Thread.ofPlatform().start(() -> {
            NotifyTest.sleepMillis(20);
            submit();
        });
        assertTrue(ctx.poll(true));
        late.join();
        assertEquals(2_000, ctx.pollNsOf(kick.fd()), "poll-shrink 2 halves it");
        ctx.setPollParams(5_000_000, 0, 0);
        assertEquals(0, ctx.pollNsOf(kick.fd()), "new parameters reset every handler's poll time");
    }

    @Test
    void aHandlerWithoutPollDisablesBusyPolling() {
        ctx.setPollParams(10_000_000_000L, 0, 0);
        ctx.poll(false);
        submit();
        assertTrue(ctx.poll(true));
        assertEquals(4_000, ctx.pollNsOf(kick.fd()));
        try (EventFd plain = EventFd.open(false)) {
            ctx.setFdHandler(plain.fd(), plain::testAndClear, null);
            int before = pollCalls.get();
            pending.set(true);
            ctx.poll(false);
            assertEquals(before, pollCalls.get(),
                    "need_wait: poll(2) cannot see the plain fd from user space, so nothing is busy-polled");
            ctx.removeFdHandler(plain.fd());
        }
    }

    @Test
    void negativeParametersAreRejectedAndTheOldOnesKept() {
        ctx.setPollParams(1000, 3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ctx.setPollParams(-1, 0, 0));
        assertTrue(e.getMessage().contains("poll-max-ns"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ctx.setPollParams(1, -2, 0));
        assertThrows(IllegalArgumentException.class, () -> ctx.setPollParams(1, 0, -3));
        assertEquals(new PollParams(1000, 3, 4), ctx.pollParams());
        assertThrows(IllegalArgumentException.class, () -> ctx.setAioParams(-1));
        IllegalArgumentException pool = assertThrows(IllegalArgumentException.class,
                () -> ctx.setThreadPoolParams(8, 4));
        assertTrue(pool.getMessage().startsWith("bad thread-pool-min/thread-pool-max values"), pool.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ctx.setThreadPoolParams(0, 0));
        assertThrows(IllegalArgumentException.class, () -> ctx.setThreadPoolParams(-1, 4));
        assertThrows(IllegalArgumentException.class, () -> ctx.setThreadPoolParams(0, 1L << 40));
        assertEquals(0, ctx.threadPoolMin());
        assertEquals(64, ctx.threadPoolMax());
        ctx.setThreadPoolParams(2, 8);
        assertEquals(2, ctx.threadPoolMin());
        assertEquals(8, ctx.threadPoolMax());
        ctx.setAioParams(16);
        assertEquals(16, ctx.aioMaxBatch());
        ctx.poll(false);
        submit();
        assertTrue(ctx.poll(true), "the context kept working through the rejections");
    }
}
