package org.aiolos.core.coroutine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.aiolos.api.AioContext;
import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;

/**
 * Create, enter, yield and finish ({@code qemu_coroutine_create},
 * {@code qemu_aio_coroutine_enter}, {@code qemu_coroutine_yield} in QEMU's
 * {@code util/qemu-coroutine.c}), on both backends.
 */
class CoroutineRuntimeTest {

    @BothBackends
    void enterRunsSynchronouslyUntilYieldThenResumes(String backend) {
        CoTests.use(backend);
        List<String> log = new ArrayList<>();
        Coroutine co = Coroutines.create("steps", () -> {
            log.add("a");
            Coroutines.yieldNow();
            log.add("b");
            Coroutines.yieldNow();
            log.add("c");
        });
        assertFalse(co.isEntered());
        assertTrue(log.isEmpty(), "create must not run the body");
        co.enter();
        assertEquals(List.of("a"), log);
        assertFalse(co.isEntered(), "a yielded coroutine is not entered");
        assertFalse(co.isFinished());
        co.enter();
        assertEquals(List.of("a", "b"), log);
        co.enter();
        assertEquals(List.of("a", "b", "c"), log);
        assertTrue(co.isFinished());
        assertEquals(backend, Coroutines.backend());
    }

    @BothBackends
    void selfAndInCoroutine(String backend) {
        CoTests.use(backend);
        assertFalse(Coroutines.inCoroutine());
        assertNull(Coroutines.self());
        Coroutine[] seen = new Coroutine[1];
        boolean[] inside = new boolean[1];
        Coroutine co = Coroutines.create(() -> {
            seen[0] = Coroutines.self();
            inside[0] = Coroutines.inCoroutine();
        });
        co.enter();
        assertSame(co, seen[0]);
        assertTrue(inside[0]);
        assertFalse(Coroutines.inCoroutine());
    }

    @BothBackends
    void nestedEnterKeepsTheCallerChain(String backend) {
        CoTests.use(backend);
        int depth = 64;
        List<Coroutine> chain = new ArrayList<>();
        boolean[] allEntered = new boolean[1];
        List<Integer> order = new ArrayList<>();
        Runnable[] bodies = new Runnable[depth];
        for (int i = depth - 1; i >= 0; i--) {
            int level = i;
            bodies[i] = () -> {
                order.add(level);
                if (level + 1 < depth) {
                    chain.get(level + 1).enter();
                } else {
                    allEntered[0] = chain.stream().allMatch(Coroutine::isEntered);
                    Coroutines.yieldNow(); // back to level depth-2, not to the test thread
                }
                order.add(-level);
            };
        }
        for (int i = 0; i < depth; i++) {
            chain.add(Coroutines.create("nest-" + i, bodies[i]));
        }
        chain.get(0).enter();
        assertTrue(allEntered[0], "every coroutine on the chain is entered while the innermost runs");
        assertTrue(chain.get(depth - 1).scheduledBy() == null && !chain.get(depth - 1).isEntered());
        for (int i = 0; i < depth - 1; i++) {
            assertTrue(chain.get(i).isFinished(), "level " + i + " returned after its callee yielded");
        }
        assertEquals(2 * depth - 1, order.size(), "each level ran once and all but the innermost returned");
        assertEquals(depth - 1, order.get(depth - 1));
        assertEquals(-(depth - 2), order.get(depth), "the innermost yielded to its caller, not to the test");
        assertEquals(0, order.get(order.size() - 1));
        chain.get(depth - 1).enter();
        assertTrue(chain.get(depth - 1).isFinished());
    }

    /** The spec's example: A wakes B then C; B wakes D; the run order is A, B, D, C. */
    @BothBackends
    void wakeQueueRunsDepthFirst(String backend) {
        CoTests.use(backend);
        List<String> order = new ArrayList<>();
        Coroutine d = Coroutines.create("D", () -> order.add("D"));
        Coroutine c = Coroutines.create("C", () -> order.add("C"));
        Coroutine b = Coroutines.create("B", () -> {
            order.add("B");
            Coroutines.wake(d);
            order.add("B after waking D");
        });
        Coroutine a = Coroutines.create("A", () -> {
            order.add("A");
            Coroutines.wake(b);
            Coroutines.wake(c);
            order.add("A yields");
            Coroutines.yieldNow();
        });
        a.enter();
        assertEquals(List.of("A", "A yields", "B", "B after waking D", "D", "C"), order);
        assertTrue(b.isFinished() && c.isFinished() && d.isFinished());
        assertFalse(a.isFinished());
    }

    /** Chaining through the wake-up queue: ping-pong does not nest, so it does not overflow. */
    @BothBackends
    void pingPongThroughTheWakeQueueDoesNotGrowTheStack(String backend) {
        CoTests.use(backend);
        int rounds = 20_000;
        Coroutine[] pair = new Coroutine[2];
        int[] count = new int[1];
        for (int k = 0; k < 2; k++) {
            int other = 1 - k;
            pair[k] = Coroutines.create("pp" + k, () -> {
                while (count[0] < rounds) {
                    count[0]++;
                    Coroutines.wake(pair[other]);
                    Coroutines.yieldNow();
                }
            });
        }
        pair[0].enter();
        assertTrue(count[0] >= rounds);
        assertTrue(pair[0].isFinished() || pair[1].isFinished());
    }

    @BothBackends
    void finishedCoroutinesAreRecycled(String backend) {
        CoTests.use(backend);
        FiberPool pool = CoroutineEngine.currentBackend().pool;
        Coroutines.create(Coroutines::yieldNow).enter(); // one fiber in play (yielded, kept)
        Coroutines.create(() -> { }).enter();
        int before = pool.localSize();
        assertTrue(before >= 1, "a finished coroutine's fiber goes to the thread's pool");
        List<Object> fibers = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            CoroutineImpl co = (CoroutineImpl) Coroutines.create(() -> fibers.add(
                    ((CoroutineImpl) Coroutines.self()).fiber));
            co.enter();
            assertTrue(co.isFinished());
        }
        assertEquals(1_000, fibers.size());
        assertEquals(1, fibers.stream().distinct().count(), "sequential coroutines reuse one pooled fiber");
        assertEquals(before, pool.localSize());
    }

    @BothBackends
    void poolKeepsTwoBatchesPerThreadAndOverflowsToGlobal(String backend) {
        CoTests.use(backend);
        FiberPool pool = CoroutineEngine.currentBackend().pool;
        pool.drain();
        int n = FiberPool.LOCAL_MAX + FiberPool.BATCH + 10;
        List<Coroutine> live = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Coroutine co = Coroutines.create(Coroutines::yieldNow);
            co.enter();
            live.add(co);
        }
        for (Coroutine co : live) {
            co.enter();
            assertTrue(co.isFinished());
        }
        assertTrue(pool.localSize() <= FiberPool.LOCAL_MAX, "local pool holds at most two batches");
        assertEquals(FiberPool.BATCH, pool.globalSize(), "one overflow batch moved to the global pool");
        // A new thread refills a batch from the global pool.
        Thread t = new Thread(() -> {
            Coroutines.create(() -> { }).enter();
            assertEquals(FiberPool.BATCH, pool.localSize());
        });
        t.start();
        assertTrue(join(t));
        assertEquals(0, pool.globalSize());
        pool.drain();
    }

    private static boolean join(Thread t) {
        try {
            t.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !t.isAlive();
    }

    @BothBackends
    void bodyExceptionIsThrownByEnterAfterTheWakeQueueRan(String backend) {
        CoTests.use(backend);
        boolean[] ran = new boolean[1];
        Coroutine other = Coroutines.create("other", () -> ran[0] = true);
        Coroutine failing = Coroutines.create("failing", () -> {
            Coroutines.wake(other);
            throw new UnsupportedOperationException("boom");
        });
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, failing::enter);
        assertEquals("boom", e.getMessage());
        assertTrue(ran[0], "the coroutine it woke still ran");
        assertTrue(failing.isFinished());
        // The runtime still works.
        boolean[] next = new boolean[1];
        Coroutines.create(() -> next[0] = true).enter();
        assertTrue(next[0]);
    }

    @BothBackends
    void yieldOutsideACoroutineFails(String backend) {
        CoTests.use(backend);
        IllegalStateException e = assertThrows(IllegalStateException.class, Coroutines::yieldNow);
        assertTrue(e.getMessage().contains("yielding to no one"), e.getMessage());
    }

    @BothBackends
    void enteringARunningCoroutineFails(String backend) {
        CoTests.use(backend);
        Throwable[] caught = new Throwable[1];
        Coroutine co = Coroutines.create("runner", () -> {
            try {
                Coroutines.self().enter();
            } catch (IllegalStateException e) {
                caught[0] = e;
            }
        });
        co.enter();
        assertTrue(caught[0].getMessage().contains("'runner'") && caught[0].getMessage().contains("already running"),
                caught[0].getMessage());
        assertTrue(co.isFinished());
        // Entering a caller (entered, waiting for its callee) fails the same way.
        Coroutine[] outer = new Coroutine[1];
        Coroutine inner = Coroutines.create("inner", () -> caught[0] = assertThrows(IllegalStateException.class,
                () -> outer[0].enter()));
        outer[0] = Coroutines.create("outer", inner::enter);
        outer[0].enter();
        assertTrue(caught[0].getMessage().contains("'outer'"), caught[0].getMessage());
    }

    @BothBackends
    void enteringAFinishedCoroutineFails(String backend) {
        CoTests.use(backend);
        Coroutine co = Coroutines.create("done", () -> { });
        co.enter();
        IllegalStateException e = assertThrows(IllegalStateException.class, co::enter);
        assertTrue(e.getMessage().contains("finished"), e.getMessage());
        assertThrows(IllegalStateException.class, co::enterIfInactive);
    }

    @BothBackends
    void enterIfInactiveSkipsAnEnteredCoroutine(String backend) {
        CoTests.use(backend);
        boolean[] result = new boolean[1];
        Coroutine co = Coroutines.create(() -> result[0] = Coroutines.self().enterIfInactive());
        assertTrue(co.enterIfInactive());
        assertFalse(result[0]);
    }

    @BothBackends
    void currentContextInsideIsTheEnteringThreads(String backend) throws Exception {
        CoTests.use(backend);
        AioContext[] seen = new AioContext[2];
        Coroutine co = Coroutines.create(() -> {
            seen[0] = AioContext.current();
            Coroutines.yieldNow();
            seen[1] = AioContext.current();
        });
        try (AioContext a = CoTests.newContext("enter-a")) {
            AioContext.setCurrent(a);
            co.enter();
            assertSame(a, seen[0]);
            assertSame(a, co.context());
            AioContext.setCurrent(null);
            try (AioContext b = CoTests.newContext("enter-b")) {
                Thread t = new Thread(() -> {
                    AioContext.setCurrent(b);
                    co.enter();
                });
                t.start();
                t.join();
                assertSame(b, seen[1], "after re-entry from another thread, current() is that thread's");
                assertSame(b, co.context());
            }
        }
        assertNull(AioContext.current());
    }
}
