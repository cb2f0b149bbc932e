package org.aiolos.api.threadpool;

import org.aiolos.api.AioContext;

/** Opens one {@link ThreadPool} per context (QEMU {@code aio_get_thread_pool}). */
public interface ThreadPoolFactory {

    /** A name for diagnostics and configuration. */
    String name();

    /**
     * Opens a pool whose completions run in {@code ctx}'s home thread, with the
     * context's {@link AioContext#threadPoolMin()} / {@link AioContext#threadPoolMax()}.
     */
    ThreadPool open(AioContext ctx);
}
