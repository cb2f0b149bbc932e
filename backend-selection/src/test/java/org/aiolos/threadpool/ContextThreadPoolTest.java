package org.aiolos.threadpool;

import static org.aiolos.threadpool.Fixture.liveWorkers;
import static org.aiolos.threadpool.Fixture.pollUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.aiolos.api.AioContext;
import org.aiolos.api.BackendStatus;
import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;
import org.aiolos.api.threadpool.ThreadPool;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.core.ThreadPoolProviders;
import org.aiolos.testkit.Upcall;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The context's pool ({@code aio_get_thread_pool}): provider choice, swap, close, coroutines. */
class ContextThreadPoolTest {
    private final Fixture fx = new Fixture();

    @AfterEach
    void tearDown() {
        fx.close();
    }

    /** The context's thread-pool slot as the api reports it. */
    private static BackendStatus pool(AioContext ctx) {
        return ctx.backends().stream().filter(b -> b.kind().equals("thread-pool")).findFirst().orElseThrow();
    }

    /** The pools open behind the context's pool: the serving one and retired ones still draining. */
    private static int openPools(AioContext ctx) {
        BackendStatus s = pool(ctx);
        return (s.serving() == null ? 0 : 1) + s.draining();
    }

    @Test
    void withoutAProviderWorkWaitsForOneThenFailsClearlyAndTheContextKeepsWorking() {
        AiolosContext ctx = fx.open(fx.options("none").withBackendWait(100, java.util.concurrent.TimeUnit.MILLISECONDS));
        Object[] outcome = new Object[1];
        ctx.threadPool().submit(() -> 1, (v, f) -> outcome[0] = f == null ? v : f);
        assertEquals(1, ctx.threadPool().inFlight(), "held while no provider is available");
        List<String> ran = new ArrayList<>();
        ctx.scheduleOneshot("still-alive", () -> ran.add("bh"));
        ctx.poll(false);
        assertEquals(List.of("bh"), ran);
        pollUntil(ctx, () -> outcome[0] != null, "the held request's completion after backend-wait-ms");
        IllegalStateException e = assertInstanceOf(IllegalStateException.class, outcome[0]);
        assertTrue(e.getMessage().contains("no thread-pool provider became available within 100 ms"), e.getMessage());
        assertEquals(0, ctx.threadPool().inFlight());
        assertThrows(UnsupportedOperationException.class, () -> ctx.threadPool().close(),
                "the context owns its pool");
        fx.assertNoFailures();
    }

    /**
     * The framework stops: no pool will come, so work held for one fails at once with the
     * reason, not after backend-wait-ms (an hour here), and so does work submitted later; a
     * provider that appears after all serves again.
     */
    @Test
    void whenNoProviderWillComeHeldAndNewWorkFailsAtOnceWithTheReason() {
        AiolosContext ctx = fx.open(fx.options("ended").withBackendWait(1, java.util.concurrent.TimeUnit.HOURS));
        Object[] held = new Object[1];
        ctx.threadPool().submit(() -> 1, (v, f) -> held[0] = f == null ? v : f);
        ctx.poll(false);
        assertNull(held[0], "held while a provider may still come");

        fx.providers.end("the framework is stopping");
        pollUntil(ctx, () -> held[0] != null, "the held request's completion once no provider will come");
        IllegalStateException e = assertInstanceOf(IllegalStateException.class, held[0]);
        assertEquals("no thread-pool provider will come for AioContext '" + ctx.name()
                + "': the framework is stopping", e.getMessage());

        Object[] later = new Object[1];
        ctx.threadPool().submit(() -> 2, (v, f) -> later[0] = f == null ? v : f);
        assertNull(later[0], "a completion never runs inside the submission");
        pollUntil(ctx, () -> later[0] != null, "a later request's completion");
        assertInstanceOf(IllegalStateException.class, later[0]);
        assertEquals(0, ctx.threadPool().inFlight());

        fx.providers.add(new WorkerPoolFactory(), 0);
        AtomicInteger got = new AtomicInteger();
        ctx.threadPool().submit(() -> 3, (v, f) -> got.set(v));
        pollUntil(ctx, () -> got.get() == 3, "served by the provider that came after all");
        fx.assertNoFailures();
    }

    @Test
    void workWaitingForAProviderRunsWhenOneAppears() {
        AiolosContext ctx = fx.open("late");
        AtomicInteger got = new AtomicInteger();
        ctx.threadPool().submit(() -> 7, (v, f) -> got.set(v));
        ctx.poll(false);
        fx.providers.add(new WorkerPoolFactory(), 0); // the bundle starts
        pollUntil(ctx, () -> got.get() == 7, "the held request ran on the new provider's pool");
        fx.assertNoFailures();
    }

    @Test
    void aNamedProviderThatIsMissingIsReplacedByTheBestWithANote() {
        fx.providers.add(new WorkerPoolFactory(), 0);
        AiolosContext named = fx.open(fx.options("named").withThreadPoolProvider("nope"));
        AtomicInteger got = new AtomicInteger();
        named.threadPool().submit(() -> 3, (v, f) -> got.set(v));
        pollUntil(named, () -> got.get() == 3, "served by the best available provider");
        String note = named.backends().stream().filter(b -> b.kind().equals("thread-pool")).findFirst()
                .orElseThrow().note();
        assertTrue(note != null && note.contains("'nope'") && note.contains(WorkerPoolFactory.NAME), note);
        fx.assertNoFailures();
    }

    @Test
    void serviceLoaderFindsTheWorkerPool() throws Exception {
        assertTrue(ThreadPoolProviders.system().list().stream()
                .anyMatch(p -> p.name().equals(WorkerPoolFactory.NAME)), ThreadPoolProviders.system().list().toString());
        String name = Fixture.uniqueName("system");
        try (AiolosContext ctx = Aiolos.newContext(ContextOptions.defaults(name)
                .withFdMonitors(new FdMonitorProviders()))) {
            AtomicInteger got = new AtomicInteger();
            ctx.threadPool().submit(() -> 5, (v, f) -> got.set(v));
            pollUntil(ctx, () -> got.get() == 5, "completion through the ServiceLoader provider");
            assertEquals(WorkerPoolFactory.NAME, pool(ctx).serving());
        }
    }

    @Test
    void theContextsPoolFollowsItsParameters() {
        fx.providers.add(new WorkerPoolFactory(), 0);
        AiolosContext ctx = fx.open("params");
        Thread home = Thread.currentThread();
        List<Boolean> inHome = new ArrayList<>();
        ctx.threadPool().submit(() -> null, (v, f) -> inHome.add(Thread.currentThread() == home));
        pollUntil(ctx, () -> inHome.size() == 1, "completion");
        assertEquals(List.of(true), inHome);
        ctx.setThreadPoolParams(3, 4);
        pollUntil(ctx, () -> liveWorkers(ctx) == 3, "min 3 applied to the live pool");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> ctx.setThreadPoolParams(5, 4));
        assertTrue(bad.getMessage().startsWith("bad thread-pool-min/thread-pool-max values"), bad.getMessage());
        assertEquals(3, ctx.threadPoolMin(), "rejected values leave the old ones");
        ctx.threadPool().updateParams(1, 4); // the view goes through the context
        assertEquals(1, ctx.threadPoolMin());
        assertEquals(3, ctx.threadPool().threadCount(), "workers above min stay until their idle timeout");
        fx.assertNoFailures();
    }

    @Test
    void swapUnderLoadDeliversEveryCompletionOnceAndClosesDrainedPools() {
        int before = Fixture.allLiveWorkers();
        TrackedFactory a = new TrackedFactory("a");
        TrackedFactory b = new TrackedFactory("b");
        fx.providers.add(a, 0);
        AiolosContext ctx = fx.open(fx.options("swap").withThreadPool(0, 4));
        int n = 3000;
        int[] count = new int[n];
        List<Throwable> failures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int id = i;
            ctx.threadPool().submit(() -> {
                long end = System.nanoTime() + 5_000;
                while (System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
                return id;
            }, (v, f) -> {
                count[id]++;
                if (f != null) {
                    failures.add(f);
                }
            });
            if (i == 1000) {
                fx.providers.add(b, 10); // a better provider: new work goes to b, a's pool drains
            } else if (i == 2000) {
                fx.providers.remove(b); // b's bundle stops with its work in flight
            }
            if (i % 50 == 0) {
                ctx.poll(false);
            }
        }
        pollUntil(ctx, () -> ctx.threadPool().inFlight() == 0, "every completion");
        pollUntil(ctx, () -> openPools(ctx) == 1, "drained pools closed");
        for (int i = 0; i < n; i++) {
            assertEquals(1, count[i], "request " + i);
        }
        assertTrue(failures.isEmpty(), failures.toString());
        assertEquals(2, a.opened.get(), "a, then b, then a again");
        assertEquals(1, b.opened.get());
        assertEquals(1, a.closed.get());
        assertEquals(1, b.closed.get());
        assertEquals(1001 + 999, a.submitted.get(), "0..1000, then 2001..2999");
        assertEquals(1000, b.submitted.get(), "1001..2000");
        assertEquals("a", pool(ctx).serving());

        fx.providers.remove(a);
        ctx.poll(false); // the safe point: a's pool retires, and no provider is left
        ctx.setBackendWaitMs(50);
        Object[] late = new Object[1];
        ctx.threadPool().submit(() -> 1, (v, f) -> late[0] = f);
        pollUntil(ctx, () -> late[0] != null && openPools(ctx) == 0, "the last pool retired and closed");
        assertInstanceOf(IllegalStateException.class, late[0], "no provider came within backend-wait-ms");
        assertEquals(2, a.closed.get());
        Fixture.waitUntil(() -> Fixture.allLiveWorkers() == before, java.time.Duration.ofSeconds(5),
                "thread count back to the start");
        fx.assertNoFailures();
    }

    @Test
    void stoppingTheProviderWithWorkInFlightLosesNoCompletion() {
        TrackedFactory a = new TrackedFactory("a");
        fx.providers.add(a, 0);
        AiolosContext ctx = fx.open("stop");
        CountDownLatch gate = fx.gate();
        AtomicInteger running = new AtomicInteger();
        List<Object> outcomes = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            int id = i;
            ctx.threadPool().submit(() -> {
                running.incrementAndGet();
                gate.await();
                return id;
            }, (v, f) -> outcomes.add(f == null ? v : f));
        }
        pollUntil(ctx, () -> running.get() == 10, "10 running");
        fx.providers.remove(a); // the bundle stops
        ctx.poll(false); // the safe point: a's pool retires
        AtomicInteger got = new AtomicInteger();
        ctx.threadPool().submit(() -> 9, (v, f) -> got.set(v)); // waits for a provider
        ctx.poll(false);
        assertEquals(0, a.closed.get(), "the old pool stays while work is in flight");
        assertEquals(11, ctx.threadPool().inFlight(), "10 on the old pool, 1 waiting");
        gate.countDown();
        pollUntil(ctx, () -> outcomes.size() == 10, "all 10 completions");
        pollUntil(ctx, () -> a.closed.get() == 1 && liveWorkers(ctx) == 0, "the drained pool closed");
        outcomes.sort(null);
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), outcomes);
        assertEquals(0, got.get(), "still waiting");
        TrackedFactory back = new TrackedFactory("back");
        fx.providers.add(back, 0);
        pollUntil(ctx, () -> got.get() == 9, "a returning provider takes the waiting work");
        fx.assertNoFailures();
    }

    @Test
    void closingTheContextCancelsQueuedWorkWaitsForRunningWorkAndRunsEveryCompletion() throws Exception {
        int before = Fixture.allLiveWorkers();
        TrackedFactory a = new TrackedFactory("a");
        fx.providers.add(a, 0);
        AiolosContext ctx = fx.open(fx.options("ctxclose").withThreadPool(0, 2));
        CountDownLatch gate = new CountDownLatch(1);
        AtomicInteger running = new AtomicInteger();
        int[] count = new int[6];
        Object[] outcome = new Object[6];
        Thread home = Thread.currentThread();
        AtomicInteger wrongThread = new AtomicInteger();
        for (int i = 0; i < 6; i++) {
            int id = i;
            ctx.threadPool().submit(() -> {
                running.incrementAndGet();
                gate.await();
                return id;
            }, (v, f) -> {
                if (Thread.currentThread() != home) {
                    wrongThread.incrementAndGet();
                }
                count[id]++;
                outcome[id] = f == null ? v : f;
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
        ThreadPool view = ctx.threadPool();
        ctx.close();
        opener.join();
        int cancelled = 0;
        for (int i = 0; i < 6; i++) {
            assertEquals(1, count[i], "request " + i);
            if (outcome[i] instanceof CancellationException) {
                cancelled++;
            } else {
                assertEquals(i, outcome[i]);
            }
        }
        assertEquals(4, cancelled);
        assertEquals(0, wrongThread.get());
        assertEquals(1, a.closed.get());
        assertEquals(before, Fixture.allLiveWorkers(), "every worker ended before close returned");
        assertThrows(IllegalStateException.class, ctx::threadPool);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> view.submit(() -> 1, (v, f) -> { }));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        fx.assertNoFailures();
    }

    @Test
    void aCompletionThatSchedulesWorkDuringCloseMakesTheCloseRefuseAndThePoolReopens() {
        fx.providers.add(new WorkerPoolFactory(), 0);
        AiolosContext ctx = fx.open("refuse");
        List<String> log = new ArrayList<>();
        var followUp = ctx.newBottomHalf("follow-up", () -> log.add("follow-up ran"));
        CountDownLatch gate = new CountDownLatch(1);
        AtomicInteger running = new AtomicInteger();
        ctx.threadPool().submit(() -> {
            running.incrementAndGet();
            gate.await();
            return 1;
        }, (v, f) -> {
            log.add("completed " + v);
            followUp.schedule();
        });
        pollUntil(ctx, () -> running.get() == 1, "running");
        gate.countDown();
        IllegalStateException e = assertThrows(IllegalStateException.class, ctx::close);
        assertTrue(e.getMessage().contains("follow-up"), e.getMessage());
        assertEquals(List.of("completed 1"), log, "the completion ran once, inside close");
        ctx.poll(false);
        assertEquals(List.of("completed 1", "follow-up ran"), log, "the context stayed usable");
        AtomicInteger again = new AtomicInteger();
        ctx.threadPool().submit(() -> 2, (v, f) -> again.set(v));
        pollUntil(ctx, () -> again.get() == 2, "a new pool after the refused close");
        followUp.delete();
        fx.assertNoFailures();
    }

    @Test
    void aCoroutineSubmitYieldsUntilTheResultIsBack() {
        fx.providers.add(new WorkerPoolFactory(), 0);
        AiolosContext ctx = fx.open("coro");
        ctx.poll(false); // binds the home thread
        CountDownLatch gate = fx.gate();
        List<String> log = new ArrayList<>();
        IOException io = new IOException("read failed");
        Coroutine co = Coroutines.create("submitter", () -> {
            log.add("before");
            try {
                String r = ctx.threadPool().submitCo(() -> {
                    gate.await();
                    return "result";
                });
                log.add("got " + r + (ctx.inHomeThread() ? " in home" : " elsewhere"));
                try {
                    ctx.threadPool().submitCo(() -> {
                        throw io;
                    });
                    log.add("no exception");
                } catch (IOException thrown) {
                    log.add(thrown == io ? "same exception" : "other exception " + thrown);
                }
            } catch (Exception e) {
                log.add("unexpected " + e);
            }
        });
        co.enter(ctx);
        assertEquals(List.of("before"), log, "enter returned: the coroutine yielded while the job runs");
        ctx.scheduleOneshot("meanwhile", () -> log.add("loop ran"));
        pollUntil(ctx, () -> log.contains("loop ran"), "the loop runs while the coroutine waits");
        gate.countDown();
        pollUntil(ctx, () -> log.size() == 4, "the coroutine resumed twice");
        assertEquals(List.of("before", "loop ran", "got result in home", "same exception"), log);
        assertTrue(co.isFinished());
        IllegalStateException outside = assertThrows(IllegalStateException.class,
                () -> ctx.threadPool().submitCo(() -> 1));
        assertTrue(outside.getMessage().contains("coroutine"), outside.getMessage());
        assertNull(Coroutines.self());
        fx.assertNoFailures();
    }

    @Test
    void aPinnedCoroutineSubmitRunsNothing() {
        org.junit.jupiter.api.Assumptions.assumeTrue("continuation".equals(Coroutines.backend()),
                "only a continuation can be pinned");
        fx.providers.add(new WorkerPoolFactory(), 0);
        AiolosContext ctx = fx.open("pinned");
        ctx.poll(false); // binds the home thread
        AtomicInteger ran = new AtomicInteger();
        Object[] outcome = new Object[1];
        Coroutine co = Coroutines.create("pinned-submitter", () -> outcome[0] = Upcall.callThroughNative(() -> {
            try {
                return ctx.threadPool().submitCo(ran::incrementAndGet);
            } catch (Exception e) {
                return e;
            }
        }));
        co.enter(ctx);
        assertTrue(co.isFinished());
        assertInstanceOf(org.aiolos.api.coroutine.CoroutinePinnedException.class, outcome[0]);
        // A job submitted anyway would be in flight until its completion ran: wait for both.
        ctx.threadPool().submit(() -> 0, (v, f) -> { });
        pollUntil(ctx, () -> ctx.threadPool().inFlight() == 0, "the probe job ran");
        assertEquals(0, ran.get(), "the refused submitCo ran no job");
        fx.assertNoFailures();
    }

    @Test
    void aCancelledRequestCompletesWithCancellationThroughTheContextsPool() {
        fx.providers.add(new WorkerPoolFactory(), 0);
        AiolosContext ctx = fx.open(fx.options("ctxcancel").withThreadPool(0, 1));
        CountDownLatch gate = fx.gate();
        List<Object> outcomes = new ArrayList<>();
        AtomicInteger running = new AtomicInteger();
        ctx.threadPool().submit(() -> {
            running.incrementAndGet();
            gate.await();
            return "first";
        }, (v, f) -> outcomes.add(f == null ? v : f));
        var queued = ctx.threadPool().submit(() -> "second", (v, f) -> outcomes.add(f == null ? v : f));
        pollUntil(ctx, () -> running.get() == 1, "first running");
        assertTrue(queued.cancel());
        pollUntil(ctx, () -> outcomes.size() == 1, "the cancelled one completes at once");
        assertInstanceOf(CancellationException.class, outcomes.get(0));
        gate.countDown();
        pollUntil(ctx, () -> outcomes.size() == 2, "first completes");
        assertEquals("first", outcomes.get(1));
        assertEquals(0, ctx.threadPool().inFlight());
        fx.assertNoFailures();
    }

    @Test
    void submissionsFromOtherThreadsCompleteInTheIOThread() throws Exception {
        fx.providers.add(new WorkerPoolFactory(), 0);
        int before = Fixture.allLiveWorkers();
        org.aiolos.api.IOThread io = Aiolos.newIOThread(fx.options("iothread"));
        io.start();
        AiolosContext ctx = (AiolosContext) io.context();
        int perThread = 500;
        int submitters = 3;
        CountDownLatch done = new CountDownLatch(perThread * submitters);
        AtomicInteger wrongThread = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < submitters; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < perThread; i++) {
                    ctx.threadPool().submit(() -> null, (v, f) -> {
                        if (Thread.currentThread() != io.thread() || f != null) {
                            wrongThread.incrementAndGet();
                        }
                        done.countDown();
                    });
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertTrue(done.await(10, java.util.concurrent.TimeUnit.SECONDS), "completions left: " + done.getCount());
        assertEquals(0, wrongThread.get(), "completions outside the IOThread, or failed");
        assertTrue(ctx.threadPool().threadCount() > 0);
        io.close();
        assertEquals(before, Fixture.allLiveWorkers(), "closing the IOThread ended its pool's workers");
        fx.assertNoFailures();
    }

    @Test
    void aCoroutineWaitingOnQueuedWorkGetsTheCancellationWhenTheContextCloses() throws Exception {
        fx.providers.add(new WorkerPoolFactory(), 0);
        AiolosContext ctx = fx.open(fx.options("corocancel").withThreadPool(0, 1));
        ctx.poll(false);
        CountDownLatch gate = new CountDownLatch(1);
        AtomicInteger running = new AtomicInteger();
        List<String> log = new ArrayList<>();
        ctx.threadPool().submit(() -> {
            running.incrementAndGet();
            gate.await();
            return 1;
        }, (v, f) -> log.add("blocker " + v));
        pollUntil(ctx, () -> running.get() == 1, "the only worker busy");
        Coroutine co = Coroutines.create("waiter", () -> {
            try {
                ctx.threadPool().submitCo(() -> "never");
                log.add("waiter got a result");
            } catch (CancellationException e) {
                log.add("waiter cancelled");
            } catch (Exception e) {
                log.add("waiter " + e);
            }
        });
        co.enter(ctx);
        assertTrue(log.isEmpty(), "the coroutine waits");
        Thread opener = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
            gate.countDown();
        });
        ctx.close();
        opener.join();
        assertTrue(co.isFinished(), "close woke the coroutine with its cancellation");
        assertEquals(List.of("waiter cancelled", "blocker 1"), log, "newest submission first");
        fx.assertNoFailures();
    }
}
