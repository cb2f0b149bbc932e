package org.aiolos.bench;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.aiolos.api.threadpool.ThreadPool;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.ThreadPoolProviders;
import org.aiolos.threadpool.WorkerPoolFactory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * No-op jobs through the context's thread pool, submit to completion in the home thread,
 * beside the usual Java alternative: a cached {@link ExecutorService} running the job as a
 * {@link CompletableFuture}, whose completion is delivered back into the same loop with a
 * oneshot bottom half. Both sides block in {@code poll(true)} until their completion ran,
 * so both pay the same cross-thread wake-up of the loop.
 *
 * <ul>
 * <li>{@code *Latency}: one job in flight; average time from submit to completion.</li>
 * <li>{@code *Throughput}: {@value #BATCH} jobs submitted back to back, then polled until
 *     all completed; jobs per second.</li>
 * </ul>
 */
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED",
        "--add-exports", "java.base/jdk.internal.vm=ALL-UNNAMED"})
@State(Scope.Thread)
public class ThreadPoolBenchmark {
    static final int BATCH = 64;
    private static final Callable<Object> NOOP = () -> null;
    private static final Supplier<Object> NOOP_SUPPLIER = () -> null;

    private AiolosContext ctx;
    private ThreadPool pool;
    private ExecutorService executor;
    private long completed;
    private ThreadPool.Completion<Object> onComplete;
    private Runnable onCompleteBh;

    @Setup(Level.Trial)
    public void setUp() {
        ThreadPoolProviders providers = new ThreadPoolProviders();
        providers.add(new WorkerPoolFactory(), 0);
        ctx = Aiolos.newContext(ContextOptions.defaults("bench-pool").withThreadPools(providers));
        ctx.poll(false); // binds this thread as home, consumes the initial notify
        pool = ctx.threadPool();
        executor = Executors.newCachedThreadPool();
        onComplete = (v, f) -> completed++;
        onCompleteBh = () -> completed++;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        // How many threads each side used: the numbers only compare with this in view.
        System.out.println("threads: aiolos pool " + pool.threadCount() + " live at the end; executor largest pool "
                + ((java.util.concurrent.ThreadPoolExecutor) executor).getLargestPoolSize());
        executor.shutdown();
        executor.awaitTermination(10, TimeUnit.SECONDS);
        while (ctx.poll(false)) {
            // deliver any oneshot still queued
        }
        ctx.close();
    }

    private void awaitCompleted(long target) {
        while (completed < target) {
            ctx.poll(true);
        }
    }

    private void submitExecutor() {
        CompletableFuture.supplyAsync(NOOP_SUPPLIER, executor)
                .whenComplete((v, f) -> ctx.scheduleOneshot("executor-done", onCompleteBh));
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public long aiolosLatency() {
        long target = completed + 1;
        pool.submit(NOOP, onComplete);
        awaitCompleted(target);
        return completed;
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public long executorLatency() {
        long target = completed + 1;
        submitExecutor();
        awaitCompleted(target);
        return completed;
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    public long aiolosThroughput() {
        long target = completed + BATCH;
        for (int i = 0; i < BATCH; i++) {
            pool.submit(NOOP, onComplete);
        }
        awaitCompleted(target);
        return completed;
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    public long executorThroughput() {
        long target = completed + BATCH;
        for (int i = 0; i < BATCH; i++) {
            submitExecutor();
        }
        awaitCompleted(target);
        return completed;
    }
}
