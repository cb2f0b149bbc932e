package org.aiolos.api.threadpool;

import org.aiolos.api.AioContext;
import org.aiolos.api.BackendFactory;

/**
 * Opens one {@link ThreadPool} per context (QEMU {@code aio_get_thread_pool}). Register
 * it as an OSGi service with the {@link #NAME_PROPERTY} and {@code service.ranking}
 * properties, or list it for {@link java.util.ServiceLoader}.
 */
public interface ThreadPoolFactory extends BackendFactory<ThreadPool, AioContext> {

    /** The service property carrying {@link #name()}. */
    String NAME_PROPERTY = "threadpool.name";

    /** A name for diagnostics and configuration. */
    @Override
    String name();


    /**
     * Opens a pool whose completions run in {@code ctx}'s home thread, with the
     * context's {@link AioContext#threadPoolMin()} / {@link AioContext#threadPoolMax()}.
     * The caller owns the pool and closes it; stopping the factory's bundle does not
     * close the pools it opened, so in-flight work still completes through them.
     */
    @Override
    ThreadPool open(AioContext ctx);
}
