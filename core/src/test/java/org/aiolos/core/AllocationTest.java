package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import jdk.jfr.Recording;
import org.aiolos.api.AioTimer;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.ClockType;
import org.aiolos.api.PollParams;
import org.aiolos.api.TimeScale;
import org.aiolos.linux.EventFd;
import org.junit.jupiter.api.Test;

/**
 * The hot path allocates nothing: loop iterations that dispatch bottom halves, fd
 * handlers (busy-polled and from the monitor) and timers create no garbage. Measured with
 * the JVM's per-thread allocation counter, which counts bytes, not time.
 */
class AllocationTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void loopIterationsThatDispatchBottomHalvesFdsAndTimersAllocateNothing() {
        assertLoopAllocatesNothing("alloc");
    }

    /**
     * While a recording wants org.aiolos.SlowLoopIteration the loop times every outermost
     * iteration; it still allocates nothing (the threshold is never crossed here, so
     * nothing is committed either).
     */
    @Test
    void sameWhileARecordingTimesEveryIteration() {
        try (Recording r = new Recording()) {
            r.enable("org.aiolos.SlowLoopIteration").withThreshold(Duration.ofHours(1));
            r.start();
            assertLoopAllocatesNothing("alloc-jfr");
            r.stop();
        }
    }

    private static void assertLoopAllocatesNothing(String name) {
        TestContexts contexts = new TestContexts();
        AiolosContext ctx = Aiolos.newContext(contexts.options(name).withPollParams(new PollParams(1_000_000, 0, 0)));
        long[] counters = new long[3];
        BottomHalf bh = ctx.newBottomHalf("bh", () -> counters[0]++);
        EventFd efd = EventFd.open(false);
        ctx.setEventNotifier(efd, () -> {
            efd.testAndClear();
            counters[1]++;
        }, null, null);
        contexts.clocks().enable(ClockType.VIRTUAL, true);
        AioTimer[] timer = new AioTimer[1];
        timer[0] = ctx.newTimer(ClockType.VIRTUAL, TimeScale.NS, () -> counters[2]++);
        Runnable iteration = () -> {
            bh.schedule();
            efd.set();
            if (!timer[0].isPending()) {
                timer[0].modNs(0);
            }
            ctx.poll(false);
            ctx.wakeUp();
            ctx.poll(true);
        };
        for (int i = 0; i < 100_000; i++) {
            iteration.run(); // warm up: JIT, lazily grown arrays
        }
        // Steady state: the FFM call wrappers are scalar-replaced only once C2 has compiled
        // the path, so a round that overlaps a compilation may allocate; the best of a few
        // rounds is the compiled loop's figure.
        long threadId = Thread.currentThread().threadId();
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 30 && best != 0; round++) {
            long before = THREADS.getThreadAllocatedBytes(threadId);
            for (int i = 0; i < 20_000; i++) {
                iteration.run();
            }
            best = Math.min(best, THREADS.getThreadAllocatedBytes(threadId) - before);
        }
        assertTrue(counters[0] >= 120_000 && counters[1] >= 120_000 && counters[2] >= 120_000,
                "work was done: " + java.util.Arrays.toString(counters));
        assertEquals(0, best, "bytes allocated by 20,000 loop iterations in steady state");
        timer[0].cancel();
        bh.delete();
        ctx.setEventNotifier(efd, null, null, null);
        ctx.close();
        efd.close();
        contexts.assertNoFailures();
    }
}
