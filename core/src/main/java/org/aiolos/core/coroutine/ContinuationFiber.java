package org.aiolos.core.coroutine;

import java.util.concurrent.ConcurrentHashMap;
import org.aiolos.api.AioContext;
import org.aiolos.api.coroutine.CoroutinePinnedException;

/**
 * A fiber on a {@code jdk.internal.vm.Continuation}: resuming mounts the continuation on
 * the enterer's own thread, so the coroutine runs there synchronously, exactly as QEMU's
 * coroutines do.
 *
 * <p><b>Thread identity after a migration.</b> Measured on JDK 25: once the JIT has
 * compiled a method that yields, {@link Thread#currentThread()} (and so every thread
 * local) read after the yield in that method can still be the thread it ran on before,
 * when the coroutine was resumed on another thread: the JIT treats the current thread as
 * constant within a compiled frame, which holds for virtual threads but not for a
 * continuation moved between platform threads. So no coroutine state is looked up
 * through thread locals here: the running fiber is found from the mounted continuation
 * ({@link #running()}), and it carries the state of the thread that resumed it.
 */
final class ContinuationFiber extends Fiber {
    /** Live fibers by continuation; a fiber leaves when destroyed. */
    private static final ConcurrentHashMap<Object, ContinuationFiber> BY_CONTINUATION = new ConcurrentHashMap<>();
    /** Set once the first fiber exists: until then nobody pays for the lookup. */
    static volatile boolean inUse;

    private final Object continuation;
    /** The enterer's coroutine state and context; written by it before each resume. */
    ThreadState resumerState;
    AioContext resumerContext;
    /**
     * Set by {@link #ensureCanSuspend()} for a trial yield that {@link #resume()} answers
     * at once. Only the thread the continuation is mounted on touches it.
     */
    private boolean probing;

    ContinuationFiber() {
        this.continuation = ContinuationSupport.newContinuation(this::trampoline);
        BY_CONTINUATION.put(continuation, this);
        inUse = true;
    }

    /** The fiber whose continuation is mounted on this thread, or null outside any. */
    static ContinuationFiber running() {
        Object c = ContinuationSupport.current();
        return c == null ? null : BY_CONTINUATION.get(c);
    }

    /** Never returns: after each body it parks the continuation until the next reuse. */
    private void trampoline() {
        for (;;) {
            runBoundBody();
            ContinuationSupport.yield(co);
        }
    }

    @Override
    void resume(ThreadState resumer, AioContext context) {
        resumerState = resumer;
        resumerContext = context;
        ContinuationSupport.run(continuation);
        while (probing) {
            probing = false;
            ContinuationSupport.run(continuation);
        }
    }

    @Override
    void suspend() {
        ContinuationSupport.yield(co);
    }

    @Override
    void ensureCanSuspend() {
        // JDK 25 yields through monitors although isPinned counts them, so a "maybe" is
        // settled with a real yield that resume() turns straight around.
        if (!ContinuationSupport.maybePinned()) {
            return;
        }
        probing = true;
        try {
            ContinuationSupport.yield(co);
        } catch (CoroutinePinnedException e) {
            probing = false;
            throw e;
        }
    }

    @Override
    void destroy() {
        // The continuation itself is collected like any object once unreferenced.
        BY_CONTINUATION.remove(continuation);
        resumerState = null;
        resumerContext = null;
    }
}
