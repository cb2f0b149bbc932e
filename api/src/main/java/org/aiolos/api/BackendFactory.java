package org.aiolos.api;

/**
 * The shape the three backend SPIs share ({@link org.aiolos.api.fdmon.FdMonitorFactory},
 * {@link org.aiolos.api.diskio.DiskIoEngineFactory},
 * {@link org.aiolos.api.threadpool.ThreadPoolFactory}): a name, whether it can work here,
 * and {@code open} for one context. A provider registers its factory as an OSGi service
 * with its kind's {@code NAME_PROPERTY} ({@code <kind>.name}: {@code fdmon.name},
 * {@code diskio.name}, {@code threadpool.name}) and {@code service.ranking}, or lists it for
 * {@link java.util.ServiceLoader}; contexts pick the best available one and swap at a safe
 * point when providers come and go.
 *
 * @param <B> what it opens: one per context
 * @param <H> what the opened backend is given: the context, or the fd-monitor side of it
 */
public interface BackendFactory<B, H> {

    /** The name configurations and the shell use, e.g. {@code epoll}, {@code native}, {@code workers}. */
    String name();

    /**
     * {@code null} when this factory can open backends on this system, otherwise why not in
     * one line (with the errno where a system call refused), so a context can skip it and
     * say why. By default {@code null}: a factory that needs no kernel facility beyond
     * what every supported Linux has (poll(2), threads) need not say so.
     */
    default String unavailableReason() {
        return null;
    }

    /** Whether {@link #unavailableReason()} is {@code null}. */
    default boolean isAvailable() {
        return unavailableReason() == null;
    }

    /**
     * Its rank among the available providers of its kind when none is configured by name:
     * higher wins. Registered as the OSGi service's {@code service.ranking}; outside OSGi
     * ({@link java.util.ServiceLoader}) the ranking comes from here, so a choice does not
     * depend on the class path's order. By default 0.
     *
     * @since 0.6.0
     */
    default int ranking() {
        return 0;
    }

    /** Opens one backend for one context; the caller owns it and closes it. */
    B open(H host);
}
