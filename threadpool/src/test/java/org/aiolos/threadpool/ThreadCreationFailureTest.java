package org.aiolos.threadpool;

import static org.aiolos.threadpool.Fixture.pollUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.IntPredicate;
import org.aiolos.api.threadpool.ThreadPool;
import org.aiolos.core.AiolosContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Fault injection: worker thread creation fails (as with {@code OutOfMemoryError: unable
 * to create native thread}) for some attempts. Queued work must wait, not be lost, and
 * complete exactly once when threads can start again; the context keeps running.
 */
class ThreadCreationFailureTest {
    private final Fixture fx = new Fixture();

    @AfterEach
    void tearDown() {
        fx.close();
    }

    /** Fails the attempts (1-based) the predicate picks; counts them all. */
    private static final class FailingStarter implements WorkerPool.ThreadStarter {
        final AtomicInteger attempts = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        private final IntPredicate fail;

        FailingStarter(IntPredicate fail) {
            this.fail = fail;
        }

        @Override
        public Thread start(String name, Runnable body) {
            if (fail.test(attempts.incrementAndGet())) {
                failed.incrementAndGet();
                throw new OutOfMemoryError("unable to create native thread: possibly out of memory or process/resource limits reached");
            }
            return WorkerPool.PLATFORM.start(name, body);
        }
    }

    private void submitAndCheck(AiolosContext ctx, ThreadPool pool, int n, CountDownLatch gate) {
        AtomicIntegerArray runs = new AtomicIntegerArray(n);
        AtomicIntegerArray completions = new AtomicIntegerArray(n);
        AtomicInteger done = new AtomicInteger();
        for (int i = 0; i < n; i++) {
            int id = i;
            pool.submit(() -> {
                runs.incrementAndGet(id);
                if (gate != null) {
                    gate.await();
                }
                return id;
            }, (v, f) -> {
                assertEquals(id, v);
                completions.incrementAndGet(id);
                done.incrementAndGet();
            });
        }
        if (gate != null) {
            pollUntil(ctx, () -> pool.threadCount() >= Math.min(n, ctx.threadPoolMax())
                    && Fixture.liveWorkers(ctx) >= Math.min(n, ctx.threadPoolMax()), "workers despite failures");
            gate.countDown();
        }
        pollUntil(ctx, () -> done.get() == n, Duration.ofSeconds(20), n + " completions");
        // A little more looping: nothing may complete twice.
        AtomicBoolean bh = new AtomicBoolean();
        ctx.scheduleOneshot("after", () -> bh.set(true));
        pollUntil(ctx, bh::get, "the context still runs bottom halves");
        for (int i = 0; i < n; i++) {
            assertEquals(1, runs.get(i), "request " + i + " ran once");
            assertEquals(1, completions.get(i), "request " + i + " completed once");
        }
        assertEquals(0, pool.inFlight());
    }

    @Test
    void firstStartsFailThenQueuedWorkCompletesOnceByTheRetryTimer() {
        AiolosContext ctx = fx.open("oom-first");
        FailingStarter starter = new FailingStarter(a -> a <= 3);
        try (ThreadPool pool = new GateReleasingPool(new WorkerPool(ctx, Duration.ofSeconds(10), starter), fx)) {
            // All submitted before the loop runs: no later submission retries, only the timer.
            submitAndCheck(ctx, pool, 16, null);
            assertEquals(3, starter.failed.get());
            assertTrue(starter.attempts.get() >= 4, "retried after the failures: " + starter.attempts.get());
        }
        fx.assertNoFailures();
    }

    @Test
    void chainStartsFailInWorkersThenEveryBlockedJobGetsAWorker() {
        AiolosContext ctx = fx.open("oom-chain");
        // The home thread starts worker 1; workers 1.. fail to start the next three times.
        FailingStarter starter = new FailingStarter(a -> a >= 2 && a <= 4);
        try (ThreadPool pool = new GateReleasingPool(new WorkerPool(ctx, Duration.ofSeconds(10), starter), fx)) {
            submitAndCheck(ctx, pool, 6, fx.gate());
            assertEquals(3, starter.failed.get());
            assertEquals(6 + 3, starter.attempts.get(), "one attempt per worker plus one per failure");
        }
        fx.assertNoFailures();
    }

    @Test
    void aLaterSubmissionRetriesAtOnceAndEverythingCompletes() {
        AiolosContext ctx = fx.open("oom-resubmit");
        AtomicBoolean broken = new AtomicBoolean(true);
        FailingStarter starter = new FailingStarter(a -> broken.get());
        try (ThreadPool pool = new GateReleasingPool(new WorkerPool(ctx, Duration.ofSeconds(10), starter), fx)) {
            AtomicInteger done = new AtomicInteger();
            pool.submit(() -> 1, (v, f) -> done.incrementAndGet());
            pollUntil(ctx, () -> starter.failed.get() >= 2, "failed starts (first and a timer retry)");
            assertEquals(0, done.get(), "no worker: the request waits");
            assertEquals(1, pool.inFlight());
            broken.set(false);
            submitAndCheck(ctx, pool, 4, null);
            pollUntil(ctx, () -> done.get() == 1, "the first request");
        }
        fx.assertNoFailures();
    }
}
