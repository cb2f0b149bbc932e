package org.aiolos.bench;

import java.util.concurrent.TimeUnit;
import org.aiolos.api.coroutine.CoMutex;
import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The coroutine primitives, measured the same way for each backend; the subclasses pick
 * the backend through their forked JVM's flags. The GC profiler's B/op shows what each
 * operation allocates.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public abstract class CoroutineBenchmarkBase {
    /** Lock/unlock pairs per enter in {@link #mutexLockUnlock()}: the enter costs ~0 per pair. */
    static final int PAIRS = 1_000;
    private static final Runnable NOTHING = () -> { };

    private Coroutine yielder;
    private Coroutine locker;
    private CoMutex mutex;
    private volatile boolean stop;
    private long count;

    @Setup(Level.Trial)
    public void setUp() {
        String expected = System.getProperty("aiolos.coroutine.backend");
        if (expected != null && !expected.equals(Coroutines.backend())) {
            throw new IllegalStateException("asked for " + expected + ", got " + Coroutines.backend());
        }
        yielder = Coroutines.create("yielder", () -> {
            while (!stop) {
                Coroutines.yieldNow();
            }
        });
        mutex = Coroutines.newMutex();
        locker = Coroutines.create("locker", () -> {
            while (!stop) {
                for (int i = 0; i < PAIRS; i++) {
                    mutex.lock();
                    count++;
                    mutex.unlock();
                }
                Coroutines.yieldNow();
            }
        });
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        stop = true;
        yielder.enter();
        locker.enter();
        if (!yielder.isFinished() || !locker.isFinished()) {
            throw new IllegalStateException("benchmark coroutines did not finish");
        }
    }

    /** Enter a coroutine that yields straight back: one switch in, one out. */
    @Benchmark
    public void enterYield() {
        yielder.enter();
    }

    /** Create (from the pool), enter, run an empty body, finish (back to the pool). */
    @Benchmark
    public Coroutine createEnterFinish() {
        Coroutine co = Coroutines.create("bench", NOTHING);
        co.enter();
        return co;
    }

    /** Uncontended CoMutex lock + unlock inside a coroutine. */
    @Benchmark
    @OperationsPerInvocation(PAIRS)
    public long mutexLockUnlock() {
        locker.enter();
        return count;
    }
}
