package org.aiolos.api.threadpool;

import java.util.concurrent.locks.LockSupport;
import org.aiolos.api.AioContext;

/** A submitted piece of work (QEMU {@code BlockAIOCB} of the thread pool). */
public interface PoolRequest {

    /**
     * Cancels it if no worker has started it (QEMU {@code cancel_async}); its completion
     * then reports cancellation. Work already running completes normally. The completion
     * runs exactly once either way.
     *
     * @return true if it was still queued
     */
    boolean cancel();

    /** Whether the completion has run (QEMU: the request's callback has been called). */
    boolean isDone();

    /** The context whose home thread runs the completion. */
    AioContext context();

    /**
     * Cancels the request if it is still queued and returns once its completion has run,
     * either way (QEMU {@code bdrv_aio_cancel}). In the home thread of {@link #context()} it
     * runs that context's loop meanwhile (nested polls, so other callbacks run too); in any
     * other thread it waits, and the home thread's loop must run for it to return. Returns
     * at once if the completion has already run.
     */
    default void cancelAndWait() {
        cancel();
        AioContext ctx = context();
        if (ctx.inHomeThread()) {
            while (!isDone()) {
                ctx.poll(true);
            }
            return;
        }
        for (int spins = 0; !isDone(); spins++) {
            if (spins < 64) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(50_000); // rare, and the completion needs the loop's turn anyway
            }
        }
    }
}
