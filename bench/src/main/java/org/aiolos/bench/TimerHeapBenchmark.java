package org.aiolos.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Arming and cancelling timers while {@code pending} others are armed on the same clock
 * of the same context (QEMU keeps a sorted list, O(n) per arm; Aiolos a binary heap).
 * The pending deadlines are spread at random over an hour an hour from now, and so are
 * the ones the benchmark arms, so each arm lands in the middle of the heap and never
 * becomes the head (which would also wake the loop: that cost is in
 * {@link TimerFiringBenchmark}).
 *
 * <ul>
 * <li>{@code armCancel}: arm an idle timer, then cancel it (QEMU {@code timer_mod_ns} +
 *     {@code timer_del}).</li>
 * <li>{@code rearm}: move one of the pending timers to a new deadline, the common
 *     "push the timeout back" pattern.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@State(Scope.Thread)
public class TimerHeapBenchmark {
    private static final long HOUR_NS = TimeUnit.HOURS.toNanos(1);
    private static final int DEADLINES = 1 << 16;
    private static final Runnable NOTHING = () -> { };

    @Param({"1000000"})
    public int pending;

    private AiolosContext ctx;
    private AioTimer[] armed;
    private AioTimer idle;
    private long[] deadlines;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        ctx = Aiolos.newContext("bench-timers");
        ctx.poll(false); // binds this thread as home, consumes the initial notify
        long base = ctx.clocks().nowNs(ClockType.REALTIME) + HOUR_NS;
        SplittableRandom rnd = new SplittableRandom(42);
        armed = new AioTimer[pending];
        for (int i = 0; i < pending; i++) {
            armed[i] = ctx.newTimer(ClockType.REALTIME, TimeScale.NS, NOTHING);
            armed[i].modNs(base + rnd.nextLong(HOUR_NS));
        }
        deadlines = new long[DEADLINES];
        for (int i = 0; i < DEADLINES; i++) {
            deadlines[i] = base + rnd.nextLong(HOUR_NS);
        }
        idle = ctx.newTimer(ClockType.REALTIME, TimeScale.NS, NOTHING);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (AioTimer t : armed) {
            t.cancel();
        }
        idle.cancel();
        ctx.poll(false);
        ctx.close();
    }

    private long nextDeadline() {
        next = (next + 1) & (DEADLINES - 1);
        return deadlines[next];
    }

    @Benchmark
    public boolean armCancel() {
        idle.modNs(nextDeadline());
        idle.cancel();
        return idle.isPending();
    }

    @Benchmark
    public long rearm() {
        AioTimer t = armed[next % pending];
        t.modNs(nextDeadline());
        return t.expireTimeNs();
    }
}
