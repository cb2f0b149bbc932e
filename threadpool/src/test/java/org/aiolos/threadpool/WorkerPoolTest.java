package org.aiolos.threadpool;

import static org.aiolos.threadpool.Fixture.liveWorkers;
import static org.aiolos.threadpool.Fixture.pollUntil;
import static org.aiolos.threadpool.Fixture.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.aiolos.api.threadpool.PoolRequest;
import org.aiolos.api.threadpool.ThreadPool;
import org.aiolos.core.AiolosContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pool on its own, opened from the factory on a real context (QEMU's
 * {@code util/thread-pool.c}).
 */
class WorkerPoolTest {
    private final Fixture fx = new Fixture();

    @AfterEach
    void tearDown() {
        fx.close();
    }

    /** A pool whose close first opens every gate of the test, so a failed assertion cannot hang close. */
    private ThreadPool open(AiolosContext ctx, Duration idle) {
        return new GateReleasingPool(new WorkerPoolFactory(idle).open(ctx), fx);
    }

    private static boolean allInState(List<PoolRequest> reqs, int state) {
        for (PoolRequest r : reqs) {
            if (((Request<?>) r).state() != state) {
                return false;
            }
        }
        return true;
    }

    /**
     * Workers finishing together while the loop sleeps in a blocking poll: only the first of
     * them schedules the completion bottom half (the others find it armed), and still every
     * completion arrives without any other wake-up. A lost wake-up would leave the loop
     * asleep; the watchdog then wakes it once so the test fails instead of hanging.
     */
    @Test
    void completionsFinishingTogetherAllArriveInBlockingPolls() throws Exception {
        AiolosContext ctx = fx.open("batch");
        int batches = 200;
        int width = 16;
        AtomicInteger delivered = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean timedOut = new java.util.concurrent.atomic.AtomicBoolean();
        Thread watchdog = Thread.ofPlatform().daemon(true).start(() -> {
            try {
                if (!done.await(60, java.util.concurrent.TimeUnit.SECONDS)) {
                    timedOut.set(true);
                    ctx.wakeUp();
                }
            } catch (InterruptedException e) {
                // the test ended
            }
        });
        try (ThreadPool pool = open(ctx, WorkerPoolFactory.DEFAULT_IDLE_TIMEOUT)) {
            for (int b = 0; b < batches && !timedOut.get(); b++) {
                CountDownLatch start = new CountDownLatch(1);
                int expected = (b + 1) * width;
                for (int i = 0; i < width; i++) {
                    pool.submit(() -> {
                        start.await(); // all of the batch finish at about the same time
                        return 1;
                    }, (v, f) -> delivered.addAndGet(v));
                }
                start.countDown();
                while (delivered.get() < expected && !timedOut.get()) {
                    ctx.poll(true);
                }
            }
            done.countDown();
            assertFalse(timedOut.get(), "a completion was left undelivered while the loop slept: "
                    + delivered.get() + " of " + batches * width);
            assertEquals(batches * width, delivered.get());
            assertEquals(0, pool.inFlight());
        } finally {
            done.countDown();
            watchdog.join();
        }
        fx.assertNoFailures();
    }

    @Test
    void completionRunsInTheHomeThreadThroughABottomHalf() {
        AiolosContext ctx = fx.open("home");
        int before = Fixture.allLiveWorkers();
        Thread home = Thread.currentThread();
        List<String> seen = new ArrayList<>();
        AtomicReference<Thread> worker = new AtomicReference<>();
        try (ThreadPool pool = open(ctx, WorkerPoolFactory.DEFAULT_IDLE_TIMEOUT)) {
            PoolRequest r = pool.submit(() -> {
                worker.set(Thread.currentThread());
                return 42;
            }, (v, f) -> seen.add(v + "/" + f + "/" + (Thread.currentThread() == home)));
            assertTrue(seen.isEmpty(), "the completion never runs inside submit");
            assertEquals(0, liveWorkers(ctx), "workers are started by the home thread's loop, not by submit");
            assertEquals(1, pool.inFlight());
            pollUntil(ctx, () -> seen.size() == 1, "the completion");
            assertEquals(List.of("42/null/true"), seen);
            assertNotSame(home, worker.get());
            assertTrue(worker.get().getName().startsWith("aiolos-pool-" + ctx.name() + "-"), worker.get().getName());
            assertEquals(0, pool.inFlight());
            assertFalse(r.cancel(), "a finished request cannot be cancelled");
            assertEquals(1, pool.threadCount());
        }
        assertEquals(before, Fixture.allLiveWorkers(), "close ends every worker");
        fx.assertNoFailures();
    }

    @Test
    void amongFinishedRequestsTheNewestSubmissionCompletesFirst() {
        AiolosContext ctx = fx.open("order");
        CountDownLatch gate = fx.gate();
        List<Integer> order = new ArrayList<>();
        List<PoolRequest> reqs = new ArrayList<>();
        try (ThreadPool pool = open(ctx, WorkerPoolFactory.DEFAULT_IDLE_TIMEOUT)) {
            for (int i = 0; i < 8; i++) {
                int n = i;
                reqs.add(pool.submit(() -> {
                    gate.await();
                    return n;
                }, (v, f) -> order.add(v)));
            }
            pollUntil(ctx, () -> allInState(reqs, Request.ACTIVE), "8 workers running the 8 jobs");
            assertEquals(8, liveWorkers(ctx), "one worker per job, started one after another");
            gate.countDown();
            waitUntil(() -> allInState(reqs, Request.DONE), Duration.ofSeconds(5), "all jobs done");
            assertTrue(order.isEmpty(), "completions wait for the loop");
            ctx.poll(false);
            assertEquals(List.of(7, 6, 5, 4, 3, 2, 1, 0), order, "one bottom-half run, newest submission first");
        }
        fx.assertNoFailures();
    }

    @Test
    void theWorksExceptionReachesTheCompletion() {
        AiolosContext ctx = fx.open("exc");
        IOException io = new IOException("disk on fire");
        Error err = new Error("worse");
        List<Object[]> got = Collections.synchronizedList(new ArrayList<>());
        try (ThreadPool pool = open(ctx, WorkerPoolFactory.DEFAULT_IDLE_TIMEOUT)) {
            pool.submit(() -> {
                throw io;
            }, (v, f) -> got.add(new Object[] {v, f}));
            pool.submit(() -> {
                throw err;
            }, (v, f) -> got.add(new Object[] {v, f}));
            pollUntil(ctx, () -> got.size() == 2, "both completions");
            for (Object[] g : got) {
                assertNull(g[0]);
                assertTrue(g[1] == io || g[1] == err, String.valueOf(g[1]));
            }
            assertNotSame(got.get(0)[1], got.get(1)[1]);
            // The worker that ran them survives both.
            AtomicInteger ok = new AtomicInteger();
            pool.submit(() -> 1, (v, f) -> ok.set(v));
            pollUntil(ctx, () -> ok.get() == 1, "a later job");
        }
        fx.assertNoFailures();
    }

    @Test
    void aThrowingCompletionIsReportedAndTheOthersStillRun() {
        AiolosContext ctx = fx.open("cbthrow");
        CountDownLatch gate = fx.gate();
        List<PoolRequest> reqs = new ArrayList<>();
        List<Integer> delivered = new ArrayList<>();
        RuntimeException boom = new RuntimeException("completion failed");
        try (ThreadPool pool = open(ctx, WorkerPoolFactory.DEFAULT_IDLE_TIMEOUT)) {
            for (int i = 0; i < 3; i++) {
                int n = i;
                reqs.add(pool.submit(() -> {
                    gate.await();
                    return n;
                }, (v, f) -> {
                    delivered.add(v);
                    if (v == 2) {
                        throw boom;
                    }
                }));
            }
            pollUntil(ctx, () -> allInState(reqs, Request.ACTIVE), "3 running");
            gate.countDown();
            waitUntil(() -> allInState(reqs, Request.DONE), Duration.ofSeconds(5), "all done");
            pollUntil(ctx, () -> delivered.size() == 3, "every completion despite the throw");
            assertEquals(List.of(2, 1, 0), delivered);
        }
        assertEquals(List.of(boom), fx.failures, "the loop's failure handler got it");
        fx.failures.clear();
    }

    @Test
    void aNestedPollInsideACompletionDeliversTheOthers() {
        AiolosContext ctx = fx.open("nested");
        CountDownLatch gate = fx.gate();
        List<PoolRequest> reqs = new ArrayList<>();
        List<Integer> delivered = new ArrayList<>();
        AtomicInteger seenInside = new AtomicInteger(-1);
        try (ThreadPool pool = open(ctx, WorkerPoolFactory.DEFAULT_IDLE_TIMEOUT)) {
            for (int i = 0; i < 3; i++) {
                int n = i;
                reqs.add(pool.submit(() -> {
                    gate.await();
                    return n;
                }, (v, f) -> {
                    delivered.add(v);
                    if (v == 2) {
                        ctx.poll(false); // QEMU: the BH was rescheduled before this callback
                        seenInside.set(delivered.size());
                    }
                }));
            }
            pollUntil(ctx, () -> allInState(reqs, Request.ACTIVE), "3 running");
            gate.countDown();
            waitUntil(() -> allInState(reqs, Request.DONE), Duration.ofSeconds(5), "all done");
            ctx.poll(false);
            assertEquals(3, seenInside.get(), "the nested poll delivered the other two");
            assertEquals(List.of(2, 1, 0), delivered, "each exactly once");
            assertFalse(ctx.poll(false), "nothing left over");
        }
        fx.assertNoFailures();
    }

    @Test
    void cancelRacesCompleteEveryRequestExactlyOnce() {
        AiolosContext ctx = fx.open(fx.options("cancel").withThreadPool(0, 4));
        int n = 20_000;
        int[] completions = new int[n];
        boolean[] cancelledOutcome = new boolean[n];
        boolean[] cancelReturned = new boolean[n];
        List<PoolRequest> reqs = new ArrayList<>(n);
        Thread home = Thread.currentThread();
        AtomicInteger wrongThread = new AtomicInteger();
        java.util.Random rnd = new java.util.Random(5);
        try (ThreadPool pool = open(ctx, WorkerPoolFactory.DEFAULT_IDLE_TIMEOUT)) {
            for (int i = 0; i < n; i++) {
                int id = i;
                reqs.add(pool.submit(() -> {
                    long end = System.nanoTime() + 2_000;
                    while (System.nanoTime() < end) {
                        Thread.onSpinWait();
                    }
                    return id;
                }, (v, f) -> {
                    if (Thread.currentThread() != home) {
                        wrongThread.incrementAndGet();
                    }
                    completions[id]++;
                    if (f != null) {
                        assertInstanceOf(CancellationException.class, f);
                        cancelledOutcome[id] = true;
                    } else {
                        assertEquals(id, v);
                    }
                }));
                // Cancel a recent request: it may be queued, running or finished.
                int victim = Math.max(0, i - rnd.nextInt(8));
                if (reqs.get(victim).cancel()) {
                    assertFalse(cancelReturned[victim], "a second cancel of " + victim + " returned true");
                    cancelReturned[victim] = true;
                }
                if (i % 64 == 0) {
                    ctx.poll(false);
                }
            }
            pollUntil(ctx, () -> pool.inFlight() == 0, Duration.ofSeconds(30), "every completion");
            for (PoolRequest r : reqs) {
                assertFalse(r.cancel(), "nothing is cancellable after completion");
            }
            assertTrue(pool.threadCount() <= 4, "max 4 workers, saw " + pool.threadCount());
        }
        int cancelled = 0;
        for (int i = 0; i < n; i++) {
            assertEquals(1, completions[i], "request " + i + " completed " + completions[i] + " times");
            assertEquals(cancelReturned[i], cancelledOutcome[i], "request " + i + ": cancel() result vs outcome");
            if (cancelledOutcome[i]) {
                cancelled++;
            }
        }
        assertEquals(0, wrongThread.get(), "completions outside the home thread");
        assertTrue(cancelled > 0 && cancelled < n, "both outcomes should occur, cancelled " + cancelled + " of " + n);
        fx.assertNoFailures();
    }

    @Test
    void cancellingRunningWorkReturnsFalseAndItCompletesNormally() {
        AiolosContext ctx = fx.open("cancelrun");
        CountDownLatch gate = fx.gate();
        List<Object> got = new ArrayList<>();
        try (ThreadPool pool = open(ctx, WorkerPoolFactory.DEFAULT_IDLE_TIMEOUT)) {
            PoolRequest r = pool.submit(() -> {
                gate.await();
                return "ran";
            }, (v, f) -> got.add(f == null ? v : f));
            pollUntil(ctx, () -> ((Request<?>) r).state() == Request.ACTIVE, "running");
            assertFalse(r.cancel());
            gate.countDown();
            pollUntil(ctx, () -> !got.isEmpty(), "completion");
            assertEquals(List.of("ran"), got);
        }
        fx.assertNoFailures();
    }

    @Test
    void maxBoundsTheLiveWorkers() {
        AiolosContext ctx = fx.open(fx.options("max").withThreadPool(0, 3));
        CountDownLatch gate = fx.gate();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        try (ThreadPool pool = open(ctx, WorkerPoolFactory.DEFAULT_IDLE_TIMEOUT)) {
            for (int i = 0; i < 20; i++) {
                pool.submit(() -> {
                    peak.accumulateAndGet(running.incrementAndGet(), Math::max);
                    gate.await();
                    running.decrementAndGet();
                    return null;
                }, (v, f) -> done.incrementAndGet());
            }
            pollUntil(ctx, () -> running.get() == 3, "3 jobs running");
            long until = System.nanoTime() + 100_000_000L;
            while (System.nanoTime() < until) {
                ctx.poll(false); // give a buggy pool the chance to start more
            }
            assertEquals(3, liveWorkers(ctx));
            assertEquals(3, pool.threadCount());
            gate.countDown();
            pollUntil(ctx, () -> done.get() == 20, "all 20");
            assertEquals(3, peak.get());
            assertTrue(liveWorkers(ctx) <= 3);
        }
        assertEquals(0, liveWorkers(ctx));
        fx.assertNoFailures();
    }

    @Test
    void minWorkersStartAtOpenAndOutliveTheIdleTimeout() {
        AiolosContext ctx = fx.open(fx.options("min").withThreadPool(2, 4));
        CountDownLatch gate = fx.gate();
        AtomicInteger done = new AtomicInteger();
        try (ThreadPool pool = open(ctx, Duration.ofMillis(100))) {
            pollUntil(ctx, () -> liveWorkers(ctx) == 2, "min workers pre-spawned");
            AtomicInteger running = new AtomicInteger();
            for (int i = 0; i < 4; i++) {
                pool.submit(() -> {
                    running.incrementAndGet();
                    gate.await();
                    return null;
                }, (v, f) -> done.incrementAndGet());
                if (i == 1) {
                    // QEMU counts a woken worker idle until it runs: submissions meanwhile
                    // start no thread. Once both run, each submission starts one.
                    pollUntil(ctx, () -> running.get() == 2, "the 2 warm workers busy");
                    assertEquals(2, liveWorkers(ctx), "idle workers took the first two jobs");
                }
            }
            pollUntil(ctx, () -> liveWorkers(ctx) == 4 && running.get() == 4, "grown to max for 4 jobs");
            gate.countDown();
            pollUntil(ctx, () -> done.get() == 4, "4 done");
            pollUntil(ctx, () -> liveWorkers(ctx) == 2, Duration.ofSeconds(5), "reaped back to min");
            long until = System.nanoTime() + 400_000_000L; // 4 idle timeouts
            while (System.nanoTime() < until) {
                ctx.poll(false);
                Thread.onSpinWait();
            }
            assertEquals(2, liveWorkers(ctx), "min workers stay");
            assertEquals(2, pool.threadCount());
        }
        assertEquals(0, liveWorkers(ctx));
        fx.assertNoFailures();
    }

    @Test
    void idleWorkersLeaveAfterTheIdleTimeout() {
        AiolosContext ctx = fx.open("idle");
        CountDownLatch gate = fx.gate();
        AtomicInteger done = new AtomicInteger();
        Duration idle = Duration.ofMillis(200);
        try (ThreadPool pool = open(ctx, idle)) {
            for (int i = 0; i < 4; i++) {
                pool.submit(() -> {
                    gate.await();
                    return null;
                }, (v, f) -> done.incrementAndGet());
            }
            pollUntil(ctx, () -> liveWorkers(ctx) == 4, "4 workers");
            gate.countDown();
            pollUntil(ctx, () -> done.get() == 4, "4 done");
            long idleSince = System.nanoTime();
            assertEquals(4, liveWorkers(ctx), "workers do not leave at once");
            waitUntil(() -> liveWorkers(ctx) == 0, Duration.ofSeconds(5), "idle workers gone");
            long waitedMs = (System.nanoTime() - idleSince) / 1_000_000;
            assertTrue(waitedMs >= 150, "they left after " + waitedMs + " ms, before the 200 ms idle timeout");
            assertEquals(0, pool.threadCount());
            // A new submission starts a worker again.
            AtomicInteger again = new AtomicInteger();
            pool.submit(() -> 7, (v, f) -> again.set(v));
            pollUntil(ctx, () -> again.get() == 7, "work after reaping");
        }
        fx.assertNoFailures();
    }

    /**
     * Each submission wakes an idle worker of its own: bursts of 4 jobs that can only
     * finish together (each waits for the other three to start) run on the 4 idle workers
     * at once. The idle timeout is a minute, so a wake-up that got lost, or that waited for
     * another worker to run first, would leave a job queued far beyond the test's patience.
     */
    @Test
    void aBurstOfSubmissionsWakesOneIdleWorkerEach() {
        AiolosContext ctx = fx.open(fx.options("burst").withThreadPool(4, 4));
        AtomicInteger done = new AtomicInteger();
        try (ThreadPool pool = open(ctx, Duration.ofMinutes(1))) {
            pollUntil(ctx, () -> liveWorkers(ctx) == 4, "4 idle workers");
            for (int burst = 0; burst < 50; burst++) {
                CountDownLatch together = new CountDownLatch(4);
                for (int i = 0; i < 4; i++) {
                    pool.submit(() -> {
                        together.countDown();
                        return together.await(30, java.util.concurrent.TimeUnit.SECONDS);
                    }, (v, f) -> {
                        assertTrue(v, "the 4 jobs of a burst ran together");
                        done.incrementAndGet();
                    });
                }
                int expected = 4 * (burst + 1);
                pollUntil(ctx, () -> done.get() == expected, Duration.ofSeconds(40), "burst " + burst);
            }
            assertEquals(4, liveWorkers(ctx), "no thread started beyond the idle ones");
        }
        fx.assertNoFailures();
    }

    /**
     * The wake-up hand-off under races: workers idle out after 1 ms, so submissions keep
     * arriving just as a worker gives up waiting, pops race timeouts, and the bounds change
     * under them. A popped worker that a submission counted on but that left, or a pop
     * lost against a timeout, would strand a request: every one must still complete once,
     * and no worker may outlive the pool.
     */
    @Test
    void submissionsRacingIdleTimeoutsAndBoundChangesStrandNothing() {
        AiolosContext ctx = fx.open(fx.options("race").withThreadPool(0, 4));
        int total = 3000;
        AtomicInteger done = new AtomicInteger();
        AtomicInteger ran = new AtomicInteger();
        java.util.Random rnd = new java.util.Random(42);
        try (ThreadPool pool = open(ctx, Duration.ofMillis(1))) {
            for (int i = 0; i < total; i++) {
                pool.submit(ran::incrementAndGet, (v, f) -> {
                    assertNull(f);
                    done.incrementAndGet();
                });
                int pick = rnd.nextInt(64);
                if (pick == 0) {
                    pool.updateParams(0, 1 + rnd.nextInt(4));
                } else if (pick < 8) {
                    // a pause about as long as the idle timeout: workers are giving up now
                    java.util.concurrent.locks.LockSupport.parkNanos(500_000L + rnd.nextInt(1_000_000));
                    ctx.poll(false);
                }
            }
            pollUntil(ctx, () -> done.get() == total, Duration.ofSeconds(60), "all " + total + " completions");
            assertEquals(total, ran.get(), "each job ran once");
        }
        assertEquals(0, liveWorkers(ctx));
        fx.assertNoFailures();
    }

    @Test
    void liveParameterChangesKeepEveryRequest() {
        AiolosContext ctx = fx.open(fx.options("params").withThreadPool(0, 2));
        CountDownLatch gate = fx.gate();
        List<Integer> results = new ArrayList<>();
        AtomicInteger running = new AtomicInteger();
        try (ThreadPool pool = open(ctx, WorkerPoolFactory.DEFAULT_IDLE_TIMEOUT)) {
            for (int i = 0; i < 10; i++) {
                int n = i;
                pool.submit(() -> {
                    running.incrementAndGet();
                    gate.await();
                    return n;
                }, (v, f) -> results.add(v));
            }
            pollUntil(ctx, () -> running.get() == 2, "2 running");
            pool.updateParams(0, 6);
            pollUntil(ctx, () -> running.get() == 6 && liveWorkers(ctx) == 6, "raised max: queued work gets workers");
            pool.updateParams(0, 1);
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> pool.updateParams(3, 2));
            assertTrue(bad.getMessage().startsWith("bad thread-pool-min/thread-pool-max values"), bad.getMessage());
            assertThrows(IllegalArgumentException.class, () -> pool.updateParams(0, 0));
            gate.countDown();
            pollUntil(ctx, () -> results.size() == 10, "all 10 despite the changes");
            results.sort(null);
            assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), results);
            waitUntil(() -> liveWorkers(ctx) == 1, Duration.ofSeconds(5), "surplus workers left after their jobs");
            assertEquals(1, pool.threadCount());
        }
        fx.assertNoFailures();
    }

    @Test
    void closeCancelsQueuedWorkWaitsForRunningWorkAndDeliversEverythingOnce() throws Exception {
        AiolosContext ctx = fx.open(fx.options("close").withThreadPool(0, 2));
        int before = Fixture.allLiveWorkers();
        CountDownLatch gate = new CountDownLatch(1);
        AtomicInteger running = new AtomicInteger();
        int[] count = new int[6];
        Object[] outcome = new Object[6];
        Thread home = Thread.currentThread();
        List<String> wrongThread = new ArrayList<>();
        ThreadPool pool = open(ctx, WorkerPoolFactory.DEFAULT_IDLE_TIMEOUT);
        for (int i = 0; i < 6; i++) {
            int n = i;
            pool.submit(() -> {
                running.incrementAndGet();
                gate.await();
                return n;
            }, (v, f) -> {
                if (Thread.currentThread() != home) {
                    wrongThread.add(Thread.currentThread().getName());
                }
                count[n]++;
                outcome[n] = f == null ? v : f;
            });
        }
        pollUntil(ctx, () -> running.get() == 2, "2 running, 4 queued");
        Thread opener = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
            gate.countDown();
        });
        long t0 = System.nanoTime();
        pool.close();
        long closeMs = (System.nanoTime() - t0) / 1_000_000;
        opener.join();
        assertTrue(closeMs >= 50, "close waited for running work, took " + closeMs + " ms");
        assertEquals(2, running.get(), "queued work never started");
        int ran = 0;
        int cancelled = 0;
        for (int i = 0; i < 6; i++) {
            assertEquals(1, count[i], "request " + i);
            if (outcome[i] instanceof CancellationException) {
                cancelled++;
            } else {
                assertEquals(i, outcome[i]);
                ran++;
            }
        }
        assertEquals(2, ran);
        assertEquals(4, cancelled);
        assertTrue(wrongThread.isEmpty(), wrongThread.toString());
        assertEquals(0, pool.threadCount());
        assertEquals(0, pool.inFlight());
        assertEquals(before, Fixture.allLiveWorkers(), "every worker ended before close returned");
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> pool.submit(() -> 1, (v, f) -> { }));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        assertThrows(IllegalStateException.class, () -> pool.updateParams(0, 1));
        pool.close(); // idempotent
        assertFalse(ctx.poll(false), "no bottom half left behind");
        ctx.close(); // no BH of the pool is left scheduled
        fx.assertNoFailures();
    }

    @Test
    void aCompletionMayCloseThePool() throws Exception {
        AiolosContext ctx = fx.open(fx.options("selfclose").withThreadPool(0, 1));
        CountDownLatch gate1 = new CountDownLatch(1);
        CountDownLatch gate2 = new CountDownLatch(1);
        CountDownLatch secondRunning = new CountDownLatch(1);
        List<Object> outcomes = new ArrayList<>();
        ThreadPool pool = open(ctx, WorkerPoolFactory.DEFAULT_IDLE_TIMEOUT);
        pool.submit(() -> {
            gate1.await();
            return "first";
        }, (v, f) -> {
            outcomes.add(v);
            pool.close(); // second is running, third queued behind the only worker
            outcomes.add("closed");
        });
        pool.submit(() -> {
            secondRunning.countDown();
            gate2.await();
            return "second";
        }, (v, f) -> outcomes.add(f == null ? v : f.getClass().getSimpleName()));
        pool.submit(() -> "third", (v, f) -> outcomes.add(f == null ? v : f.getClass().getSimpleName()));
        pollUntil(ctx, () -> liveWorkers(ctx) == 1, "the one worker");
        gate1.countDown();
        secondRunning.await(); // not polling meanwhile: first's completion waits for the loop
        Thread opener = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
            gate2.countDown();
        });
        pollUntil(ctx, () -> outcomes.size() == 4, "all three, and the close returned");
        opener.join();
        assertEquals(List.of("first", "CancellationException", "second", "closed"), outcomes,
                "close, inside the first completion, cancelled the queued one, waited for the running one "
                        + "and delivered both (newest submission first) before it returned");
        assertFalse(ctx.poll(false));
        assertEquals(4, outcomes.size(), "nothing delivered twice");
        assertEquals(0, liveWorkers(ctx));
        fx.assertNoFailures();
    }

    @Test
    void cancelsFromOtherThreadsRacingCloseCompleteEachRequestExactlyOnce() throws Exception {
        for (int round = 0; round < 20; round++) {
            AiolosContext ctx = fx.open(fx.options("cancelclose").withThreadPool(0, 2));
            ThreadPool pool = open(ctx, WorkerPoolFactory.DEFAULT_IDLE_TIMEOUT);
            int n = 400;
            int[] count = new int[n];
            boolean[] cancelReturned = new boolean[n];
            boolean[] cancelledOutcome = new boolean[n];
            List<PoolRequest> reqs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int id = i;
                reqs.add(pool.submit(() -> id, (v, f) -> {
                    count[id]++;
                    cancelledOutcome[id] = f instanceof CancellationException;
                }));
            }
            ctx.poll(false); // start the first worker
            CountDownLatch go = new CountDownLatch(1);
            Thread canceller = Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = n - 1; i >= 0; i--) {
                    cancelReturned[i] = reqs.get(i).cancel();
                }
            });
            go.countDown();
            pool.close(); // races the canceller: each request is cancelled by one or the other, or ran
            canceller.join();
            for (int i = 0; i < n; i++) {
                assertEquals(1, count[i], "round " + round + ", request " + i);
                if (cancelReturned[i]) {
                    assertTrue(cancelledOutcome[i], "cancel() won but the outcome was not a cancellation");
                }
            }
            assertFalse(ctx.poll(false), "close left a bottom half behind");
            assertEquals(0, liveWorkers(ctx));
            ctx.close();
        }
        fx.assertNoFailures();
    }

    @Test
    void workersStartLazilyOneAfterAnotherFromASingleHomeThreadBottomHalf() {
        AiolosContext ctx = fx.open("chain");
        CountDownLatch gate = fx.gate();
        try (ThreadPool pool = open(ctx, WorkerPoolFactory.DEFAULT_IDLE_TIMEOUT)) {
            for (int i = 0; i < 8; i++) {
                pool.submit(() -> {
                    gate.await();
                    return null;
                }, (v, f) -> { });
            }
            assertEquals(0, liveWorkers(ctx), "nothing starts before the loop runs");
            assertTrue(ctx.poll(false), "the new-thread bottom half ran");
            // No more polling: each worker starts the next one.
            waitUntil(() -> liveWorkers(ctx) == 8, Duration.ofSeconds(5), "the chain of 8 workers");
            List<String> names = new ArrayList<>();
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().startsWith("aiolos-pool-" + ctx.name() + "-")) {
                    names.add(t.getName().substring(("aiolos-pool-" + ctx.name() + "-").length()));
                }
            }
            names.sort(java.util.Comparator.comparingInt(Integer::parseInt));
            assertEquals(List.of("1", "2", "3", "4", "5", "6", "7", "8"), names);
            gate.countDown();
        }
        assertEquals(0, liveWorkers(ctx));
        fx.assertNoFailures();
    }
}
