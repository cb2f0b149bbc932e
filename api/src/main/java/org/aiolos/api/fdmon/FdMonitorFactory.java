package org.aiolos.api.fdmon;

import org.aiolos.api.BackendFactory;

/**
 * Opens one {@link FdMonitor} per context. A factory that cannot work on this system
 * (io_uring disabled, too old a kernel) says why through {@link #unavailableReason()}
 * rather than opening monitors that fail later.
 */
public interface FdMonitorFactory extends BackendFactory<FdMonitor, FdMonitorHost> {

    /** The service property carrying {@link #name()}. */
    String NAME_PROPERTY = "fdmon.name";
    String POLL = "poll";
    String EPOLL = "epoll";
    String IO_URING = "io_uring";

    /** {@code poll}, {@code epoll}, {@code io_uring}, or another provider's name. */
    @Override
    String name();


    /**
     * Opens a monitor for one context. The context then registers each live watch with
     * {@link FdMonitor#update}{@code (null, watch)}.
     *
     * @throws FdMonitorUnavailableException if it cannot be opened, saying why
     */
    @Override
    FdMonitor open(FdMonitorHost host);
}
