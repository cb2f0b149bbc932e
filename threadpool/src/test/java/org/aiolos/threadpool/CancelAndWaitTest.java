package org.aiolos.threadpool;

import static org.aiolos.threadpool.Fixture.pollUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.aiolos.api.IOThread;
import org.aiolos.api.threadpool.PoolRequest;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** QEMU's {@code thread_pool_submit} (no completion) and {@code bdrv_aio_cancel} (a blocking cancel). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CancelAndWaitTest {
    private final Fixture fx = new Fixture();

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void workWithoutACompletionRuns() {
        fx.providers.add(new WorkerPoolFactory(), 0);
        AiolosContext ctx = fx.open("nocompletion");
        AtomicInteger ran = new AtomicInteger();
        PoolRequest r = ctx.threadPool().submit(ran::incrementAndGet);
        pollUntil(ctx, r::isDone, "the request's (empty) completion");
        assertEquals(1, ran.get());
        PoolRequest failing = ctx.threadPool().submit(() -> {
            throw new IllegalStateException("logged, not lost");
        });
        pollUntil(ctx, failing::isDone, "the failing request done");
        fx.assertNoFailures();
    }

    @Test
    void cancelAndWaitInTheHomeThreadCancelsQueuedWorkAndRunsItsCompletion() {
        fx.providers.add(new WorkerPoolFactory(), 0);
        AiolosContext ctx = fx.open(fx.options("cancelhome").withThreadPool(0, 1));
        CountDownLatch gate = fx.gate();
        AtomicInteger running = new AtomicInteger();
        ctx.threadPool().submit(() -> {
            running.incrementAndGet();
            gate.await();
            return 0;
        }, (v, f) -> { });
        pollUntil(ctx, () -> running.get() == 1, "the only worker busy");
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        PoolRequest queued = ctx.threadPool().submit(() -> 1, (v, f) -> outcome.set(f));
        assertFalse(queued.isDone());
        queued.cancelAndWait();
        assertTrue(queued.isDone(), "returns only once the completion has run");
        assertInstanceOf(CancellationException.class, outcome.get());
        gate.countDown();
        fx.assertNoFailures();
    }

    @Test
    void cancelAndWaitFromAnotherThreadWaitsForRunningWorkAndItsCompletion() throws Exception {
        try (IOThread io = Aiolos.newIOThread(fx.options("cancelforeign").withThreadPool(0, 1)
                .withThreadPools(threadPools()))) {
            io.start();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch gate = new CountDownLatch(1);
            AtomicReference<Object> outcome = new AtomicReference<>();
            PoolRequest running = io.context().threadPool().submit(() -> {
                started.countDown();
                gate.await();
                return 7;
            }, (v, f) -> outcome.set(f == null ? v : f));
            assertTrue(started.await(10, TimeUnit.SECONDS));
            Thread opener = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
                gate.countDown();
            });
            running.cancelAndWait(); // too late to cancel: waits for the work and its completion
            assertTrue(running.isDone());
            assertEquals(7, outcome.get(), "running work is not cancelled; its completion ran first");
            opener.join();
        }
    }

    private org.aiolos.core.ThreadPoolProviders threadPools() {
        fx.providers.add(new WorkerPoolFactory(), 0);
        return fx.providers;
    }
}
