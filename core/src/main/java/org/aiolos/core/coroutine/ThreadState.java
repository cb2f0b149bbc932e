package org.aiolos.core.coroutine;

import java.lang.ref.Cleaner;
import java.util.ArrayDeque;

/**
 * The coroutine state of one thread: the coroutine running in it and its local fiber
 * pools. It also stands for QEMU's per-thread "leader": the caller recorded for
 * coroutines entered from outside any coroutine.
 *
 * <p>Touched only by its own thread, or by a virtual-thread fiber that runs on the
 * thread's behalf while the thread waits for it (the hand-off orders those accesses).
 */
final class ThreadState {
    private static final ThreadLocal<ThreadState> CURRENT = new ThreadLocal<>();

    private final String threadName = Thread.currentThread().getName();
    /** The coroutine running on this thread; null outside any. */
    CoroutineImpl running;
    /** Local fiber pools, by backend index. */
    private final ArrayDeque<Fiber>[] pools;

    @SuppressWarnings("unchecked")
    private ThreadState() {
        this.pools = new ArrayDeque[2];
    }

    /**
     * The state of the thread the caller runs for: inside a continuation coroutine, that of
     * the thread that resumed it (thread locals can be stale there, see
     * {@link ContinuationFiber}); otherwise this thread's own.
     */
    static ThreadState current() {
        if (ContinuationFiber.inUse) {
            ContinuationFiber f = ContinuationFiber.running();
            if (f != null) {
                return f.resumerState;
            }
        }
        ThreadState s = CURRENT.get();
        if (s == null) {
            s = new ThreadState();
            CURRENT.set(s);
        }
        return s;
    }

    /** A virtual-thread fiber takes on the state of the thread it runs for (null: none). */
    static void adopt(ThreadState s) {
        CURRENT.set(s);
    }

    /**
     * This thread's local pool for {@code pool}'s backend. Pools of fibers that must be
     * destroyed are drained by a cleaner once the thread is gone (QEMU frees the local
     * pool at thread exit).
     */
    ArrayDeque<Fiber> localPool(FiberPool pool) {
        ArrayDeque<Fiber> local = pools[pool.index];
        if (local == null) {
            local = new ArrayDeque<>();
            pools[pool.index] = local;
            if (pool.backend.fibersNeedDestroy()) {
                ArrayDeque<Fiber> captured = local; // the action must not reach `this`
                CleanerHolder.CLEANER.register(this, () -> FiberPool.destroyAll(captured));
            }
        }
        return local;
    }

    /** Created on first need, by the first thread that keeps a pool. */
    private static final class CleanerHolder {
        static final Cleaner CLEANER = Cleaner.create(Thread.ofPlatform().daemon(true)
                .name("aiolos-coroutine-pool-cleaner").factory());
    }

    @Override
    public String toString() {
        return "thread '" + threadName + "'";
    }
}
