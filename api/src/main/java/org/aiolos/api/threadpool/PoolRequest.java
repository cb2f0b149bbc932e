package org.aiolos.api.threadpool;

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
}
