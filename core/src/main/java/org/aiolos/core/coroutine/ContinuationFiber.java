package org.aiolos.core.coroutine;

import org.aiolos.api.coroutine.CoroutinePinnedException;

/**
 * A fiber on a {@code jdk.internal.vm.Continuation}: resuming mounts the continuation on
 * the enterer's own thread, so the coroutine runs there synchronously, with that thread's
 * thread locals (its current AioContext included), exactly as QEMU's coroutines do. A
 * pooled fiber that is never used again is plain garbage: the continuation's frames live
 * in heap stack chunks.
 */
final class ContinuationFiber extends Fiber {
    private final Object continuation;
    /**
     * Set by {@link #ensureCanSuspend()} for a trial yield that {@link #resume()} answers
     * at once. Only the thread the continuation is mounted on touches it.
     */
    private boolean probing;

    ContinuationFiber() {
        this.continuation = ContinuationSupport.newContinuation(this::trampoline);
    }

    /** Never returns: after each body it parks the continuation until the next reuse. */
    private void trampoline() {
        for (;;) {
            runBoundBody();
            ContinuationSupport.yield(co);
        }
    }

    @Override
    void resume() {
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
        // Nothing to release: an unreferenced continuation is collected like any object.
    }
}
