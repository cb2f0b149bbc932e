package org.aiolos.threadpool.diskio;

import org.aiolos.api.AioContext;
import org.aiolos.api.diskio.DiskIoEngine;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.osgi.service.component.annotations.Component;

/**
 * Opens {@link ThreadsEngine}s. Always available (it needs only the system calls every
 * Linux has and the context's thread pool), and ranked lowest (0): QEMU's default
 * {@code aio=threads}, chosen when neither io_uring (20) nor native (10) can be used.
 */
// Publishes the pre-1.0 name property too, for one version (see LEGACY_NAME_PROPERTY).
@SuppressWarnings("deprecation")
@Component(service = DiskIoEngineFactory.class,
        property = {DiskIoEngineFactory.NAME_PROPERTY + "=" + DiskIoEngineFactory.THREADS,
            DiskIoEngineFactory.LEGACY_NAME_PROPERTY + "=" + DiskIoEngineFactory.THREADS, "service.ranking:Integer=0"})
public final class ThreadsEngineFactory implements DiskIoEngineFactory {

    @Override
    public String name() {
        return THREADS;
    }

    @Override
    public DiskIoEngine open(AioContext ctx) {
        if (ctx == null) {
            throw new NullPointerException("ctx");
        }
        return new ThreadsEngine(ctx);
    }

    @Override
    public String toString() {
        return "threads (thread-pool) disk-I/O engine factory";
    }
}
