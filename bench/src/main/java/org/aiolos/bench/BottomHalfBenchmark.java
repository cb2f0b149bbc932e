package org.aiolos.bench;

import java.util.concurrent.TimeUnit;
import org.aiolos.api.BottomHalf;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Same-thread bottom half: schedule, then one non-blocking poll that dispatches it. The
 * GC profiler's B/op shows whether the loop allocates (goal: 0).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class BottomHalfBenchmark {
    private AiolosContext ctx;
    private BottomHalf bh;
    private long runs;

    @Setup(Level.Trial)
    public void setUp() {
        ctx = Aiolos.newContext("bench-bh");
        bh = ctx.newBottomHalf("bench", () -> runs++);
        ctx.poll(false); // consume the initial notify
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        bh.delete();
        ctx.poll(false);
        ctx.close();
    }

    @Benchmark
    public boolean scheduleAndDispatch() {
        bh.schedule();
        return ctx.poll(false);
    }
}
