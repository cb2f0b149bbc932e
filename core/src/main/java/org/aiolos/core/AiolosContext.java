package org.aiolos.core;

import org.aiolos.api.AioContext;

/** An {@link AioContext} created by {@link Aiolos}, with the operator-facing extras. */
public interface AiolosContext extends AioContext {

    /**
     * Asks for a specific fd monitor ({@code poll}, {@code epoll}, {@code io_uring}), or
     * QEMU's policy with null. The loop swaps at its next safe point; no event is lost
     * and nothing is dispatched twice because of the swap.
     */
    void useFdMonitor(String monitorName);

    /**
     * Asks for a specific disk-I/O engine ({@code threads}, {@code native},
     * {@code io_uring}), or the highest-ranked available one with null (the
     * {@code aio-engine} setting). Applied at the loop's next safe point: requests in
     * flight finish on the old engine, new ones go to the new one.
     */
    void useDiskEngine(String engineName);

    /** The disk-I/O engine in use, or null when none has been opened yet. */
    String diskEngineName();

    /** Why the context is not on the monitor it was asked for or would prefer; null if it is. */
    String fdMonitorNote();

    /** The loop's counters. */
    ContextStats stats();

    /** The current adaptive poll time of {@code fd}'s handler in ns, or -1 without one. */
    long pollNsOf(int fd);
}
