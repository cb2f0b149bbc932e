package org.aiolos.core;

import java.util.List;
import org.aiolos.api.AioContext;
import org.aiolos.api.diskio.DiskIoEngine;

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

    /**
     * Asks for a specific thread-pool provider, or the highest-ranked one with null.
     * Applied at the loop's next safe point: work in flight finishes on the old pool.
     */
    void useThreadPool(String providerName);

    /**
     * Opens a disk-I/O engine of this context's own for one user (an NBD export naming its
     * {@code engine=}): it follows the engine providers exactly as {@link #diskIo()} does
     * (swapped at a safe point, draining, falling back to the best available engine with a
     * note while {@code engineName} is not available, and back when it is). Close it when
     * done; the context's close closes it too.
     *
     * @param engineName the engine to prefer, or null for the best available
     * @param owner who uses it, for messages and {@link #backends()}
     */
    DiskIoEngine openDiskIo(String engineName, String owner);

    /**
     * Per kind of backend (fd monitor, thread pool, disk-I/O engine, and engines opened
     * with {@link #openDiskIo}): what is configured and what actually serves, with the
     * note that says why they differ.
     */
    List<BackendStatus> backends();

    /**
     * How long thread-pool and disk-I/O requests made while no provider of their kind is
     * available wait for one before they fail ({@code backend-wait-ms}, 30000 by default).
     *
     * @throws IllegalArgumentException if negative
     */
    void setBackendWaitMs(long ms);

    long backendWaitMs();

    /** Why the context is not on the monitor it was asked for or would prefer; null if it is. */
    String fdMonitorNote();

    /** The loop's counters. */
    ContextStats stats();

    /** The current adaptive poll time of {@code fd}'s handler in ns, or -1 without one. */
    long pollNsOf(int fd);
}
