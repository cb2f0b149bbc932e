package org.aiolos.bench;

import java.lang.management.ManagementFactory;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What the event-loop thread itself allocated during each measurement iteration, read
 * from the JVM's per-thread allocation counter: exact, and free of the JMH harness'
 * own allocations that the GC profiler's B/op also counts (they dominate its figure
 * when an operation takes microseconds). {@code loopBytes / ops} is the loop's B/op.
 * Summed over iterations; the report divides.
 *
 * <p>The benchmark's trial setup names the loop thread with {@link #watch(long)}; each
 * forked JVM runs one benchmark, so a static is enough.
 */
@AuxCounters(AuxCounters.Type.EVENTS)
@State(Scope.Thread)
public class LoopAllocation {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static volatile long loopThreadId = -1;

    public long loopBytes;
    public long ops;
    private long start;

    /** Called once the benchmark knows its loop thread. */
    static void watch(long threadId) {
        loopThreadId = threadId;
    }

    private static long allocated() {
        long id = loopThreadId;
        return id < 0 ? 0 : THREADS.getThreadAllocatedBytes(id);
    }

    @Setup(Level.Iteration)
    public void begin() {
        loopBytes = 0;
        ops = 0;
        start = allocated();
    }

    @TearDown(Level.Iteration)
    public void end() {
        loopBytes = allocated() - start;
    }
}
