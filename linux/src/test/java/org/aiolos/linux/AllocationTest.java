package org.aiolos.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.aiolos.api.FdEvents;
import org.junit.jupiter.api.Test;

/**
 * The hot-path promise: a steady-state syscall allocates nothing on the Java heap (the
 * errno capture segment is per thread and reused; timespecs live in native memory).
 */
class AllocationTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private static int cycle(EventFd e, PollSet ps) {
        e.set();
        int n = ps.ppoll(1, 0);
        if (!e.testAndClear()) {
            throw new AssertionError("set was lost");
        }
        return n + ps.ppoll(1, 0) + ps.revents(0);
    }

    private static long run(EventFd e, PollSet ps, int n) {
        long sum = 0;
        for (int i = 0; i < n; i++) {
            sum += cycle(e, ps);
        }
        return sum;
    }

    @Test
    void eventFdAndPpollAllocateNothing() throws Exception {
        assertTrue(THREADS.isThreadAllocatedMemorySupported());
        THREADS.setThreadAllocatedMemoryEnabled(true);
        FdLeaks.check(() -> {
            try (EventFd e = EventFd.open(false); PollSet ps = new PollSet()) {
                ps.set(0, e.fd(), FdEvents.IN);
                // Warm up until the JIT has compiled the path (the interpreter boxes).
                for (int i = 0; i < 10; i++) {
                    run(e, ps, 10_000);
                }
                long best = Long.MAX_VALUE;
                for (int attempt = 0; attempt < 5 && best != 0; attempt++) {
                    long before = THREADS.getCurrentThreadAllocatedBytes();
                    long sum = run(e, ps, 10_000);
                    long after = THREADS.getCurrentThreadAllocatedBytes();
                    assertEquals(10_000L, sum, "each cycle: ready once, then not");
                    best = Math.min(best, after - before);
                }
                System.out.println("AllocationTest: 10,000 x (set, ppoll, testAndClear, ppoll): " + best + " bytes");
                assertEquals(0, best, "bytes allocated by 10,000 set/ppoll/testAndClear cycles");
            }
        });
    }
}
