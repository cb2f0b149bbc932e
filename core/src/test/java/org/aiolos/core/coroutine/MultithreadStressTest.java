package org.aiolos.core.coroutine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.aiolos.api.AioContext;
import org.aiolos.api.IOThread;
import org.aiolos.api.coroutine.Coroutines;
import org.aiolos.core.Aiolos;

/**
 * In the style of QEMU's test-aio-multithread: five IOThreads, coroutines hopping between
 * random contexts through aio_co_schedule, and CoMutex contention from all five threads
 * on a counter that must end exact. Threads are counted before and after.
 */
class MultithreadStressTest {
    private static final int THREADS = 5;

    /** The shared counter; only touched under the CoMutex. */
    private long counter;

    @BothBackends
    void hoppingCoroutinesAndContendedMutexAcrossFiveIOThreads(String backend) throws Exception {
        CoTests.use(backend);
        Set<String> threadsBefore = CoTests.platformThreads();
        int virtualBefore = VirtualThreadBackend.INSTANCE.liveThreads();
        boolean cont = backend.equals(Backend.CONTINUATION);
        IOThread[] io = new IOThread[THREADS];
        for (int i = 0; i < THREADS; i++) {
            io[i] = Aiolos.newIOThread("co-stress-" + i);
            io[i].start();
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CoMutexImpl mutex = (CoMutexImpl) Coroutines.newMutex();
        try {
            // Phase 1: hopping. Each coroutine moves to a random context, takes the mutex
            // there, sometimes carries it to another context, and releases it.
            int hoppers = 20;
            int hops = cont ? 400 : 150;
            counter = 0;
            AtomicInteger finished = new AtomicInteger();
            long t0 = System.nanoTime();
            for (int c = 0; c < hoppers; c++) {
                Random rnd = new Random(c);
                io[c % THREADS].context().coSchedule(Coroutines.create("hopper-" + c, () -> {
                    try {
                        Object me = Coroutines.self();
                        for (int i = 0; i < hops; i++) {
                            AioContext target = io[rnd.nextInt(THREADS)].context();
                            Coroutines.rescheduleSelf(target);
                            // Once this loop is compiled, a thread local read here could
                            // still be the previous thread's (see ContinuationFiber).
                            assertSame(target, AioContext.current());
                            assertSame(me, Coroutines.self());
                            mutex.lock();
                            counter++;
                            if (rnd.nextInt(8) == 0) {
                                Coroutines.rescheduleSelf(io[rnd.nextInt(THREADS)].context());
                            }
                            mutex.unlock();
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    } finally {
                        finished.incrementAndGet();
                    }
                }));
            }
            CoTests.waitUntil(() -> finished.get() == hoppers, 60_000);
            long hopMs = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(null, failure.get());
            assertEquals((long) hoppers * hops, counter, "every increment happened under the mutex");

            // Phase 2: QEMU's test_multi_co_mutex: one coroutine per IOThread, all
            // hammering the mutex, so every lock contends with other threads.
            long waitsBefore = mutex.waits.get();
            int rounds = cont ? 20_000 : 5_000;
            counter = 0;
            AtomicInteger done = new AtomicInteger();
            AtomicInteger started = new AtomicInteger();
            long t1 = System.nanoTime();
            for (int i = 0; i < THREADS; i++) {
                io[i].context().coSchedule(Coroutines.create("hammer-" + i, () -> {
                    try {
                        // Start together, so the five threads really contend.
                        started.incrementAndGet();
                        while (started.get() < THREADS) {
                            // Back to the loop for one iteration: schedule ourselves, yield.
                            AioContext.current().coSchedule(Coroutines.self());
                            Coroutines.yieldNow();
                        }
                        for (int r = 0; r < rounds; r++) {
                            mutex.lock();
                            counter++;
                            mutex.unlock();
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    } finally {
                        done.incrementAndGet();
                    }
                }));
            }
            CoTests.waitUntil(() -> done.get() == THREADS, 60_000);
            long hammerMs = (System.nanoTime() - t1) / 1_000_000;
            assertEquals(null, failure.get());
            assertEquals((long) THREADS * rounds, counter);
            assertTrue(!mutex.isLocked());
            assertTrue(waitsBefore > 0, "phase 1 made lockers queue (the lock is carried across hops)");
            System.out.printf("[%s] %d hoppers x %d hops: %d ms, %d queued lockers; %d x %d locks: %d ms,"
                    + " %d queued lockers; hand-offs taken by late lockers: %d%n", backend, hoppers, hops, hopMs,
                    waitsBefore, THREADS, rounds, hammerMs, mutex.waits.get() - waitsBefore, mutex.handoffs.get());
        } finally {
            for (IOThread t : io) {
                t.close();
            }
        }
        assertEquals(threadsBefore, CoTests.platformThreads(), "every IOThread is gone");
        if (!cont) {
            // Pooled virtual threads: ours are destroyed now, the IOThreads' when their
            // thread state is collected (QEMU frees a thread's pool at thread exit).
            VirtualThreadBackend.INSTANCE.pool.drain();
            long end = System.nanoTime() + 10_000_000_000L;
            while (VirtualThreadBackend.INSTANCE.liveThreads() > virtualBefore && System.nanoTime() < end) {
                System.gc();
                Thread.sleep(20);
            }
            assertTrue(VirtualThreadBackend.INSTANCE.liveThreads() <= virtualBefore,
                    "virtual threads left: " + VirtualThreadBackend.INSTANCE.liveThreads() + " > " + virtualBefore);
        }
    }
}
