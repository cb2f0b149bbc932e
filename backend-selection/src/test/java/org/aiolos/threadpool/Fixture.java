package org.aiolos.threadpool;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.core.ThreadPoolProviders;
import org.aiolos.core.loop.ContextImpl;

/**
 * Contexts for pool tests: built-in poll monitor, the given thread-pool providers, and a
 * failure handler that records what callbacks threw.
 */
final class Fixture implements AutoCloseable {
    private static int serial;

    final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
    final ThreadPoolProviders providers = new ThreadPoolProviders();
    private final List<AiolosContext> opened = new ArrayList<>();
    private final List<CountDownLatch> gates = Collections.synchronizedList(new ArrayList<>());

    /** A latch jobs wait on; {@link #releaseGates} (and closing the fixture) opens it. */
    CountDownLatch gate() {
        CountDownLatch g = new CountDownLatch(1);
        gates.add(g);
        return g;
    }

    void releaseGates() {
        synchronized (gates) {
            gates.forEach(CountDownLatch::countDown);
        }
    }

    /** A unique context name, so thread counts by name never see another test's workers. */
    static synchronized String uniqueName(String base) {
        return base + (++serial);
    }

    ContextOptions options(String base) {
        return ContextOptions.defaults(uniqueName(base)).withFdMonitors(new FdMonitorProviders())
                .withThreadPools(providers).withFailureHandler((ctx, source, failure) -> failures.add(failure));
    }

    AiolosContext open(String base) {
        return open(options(base));
    }

    AiolosContext open(ContextOptions o) {
        AiolosContext ctx = Aiolos.newContext(o);
        opened.add(ctx);
        return ctx;
    }

    /** Polls (without blocking) until cond holds; fails after the timeout. */
    static void pollUntil(AiolosContext ctx, BooleanSupplier cond, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout.toMillis() + " ms waiting for " + what);
            }
            if (!ctx.poll(false)) {
                Thread.onSpinWait();
                Thread.yield();
            }
        }
    }

    static void pollUntil(AiolosContext ctx, BooleanSupplier cond, String what) {
        pollUntil(ctx, cond, Duration.ofSeconds(10), what);
    }

    /** Waits without polling until cond holds. */
    static void waitUntil(BooleanSupplier cond, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout.toMillis() + " ms waiting for " + what);
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** Live threads named like the workers of ctx's pools. */
    static int liveWorkers(AiolosContext ctx) {
        String prefix = "aiolos-pool-" + ctx.name() + "-";
        int n = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith(prefix)) {
                n++;
            }
        }
        return n;
    }

    /** Every live aiolos-pool-* thread in the JVM. */
    static int allLiveWorkers() {
        int n = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("aiolos-pool-")) {
                n++;
            }
        }
        return n;
    }

    void assertNoFailures() {
        if (!failures.isEmpty()) {
            AssertionError e = new AssertionError("callbacks threw: " + failures);
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }

    @Override
    public void close() {
        releaseGates();
        for (AiolosContext ctx : opened) {
            if (!((ContextImpl) ctx).isClosed()) {
                ctx.close();
            }
        }
        opened.clear();
    }
}
