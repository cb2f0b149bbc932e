package org.aiolos.core.osgi;

/**
 * What JMX shows of one IOThread's context ({@code org.aiolos:type=AioContext,name=<name>}):
 * its loop counters, fd monitor and parameters, read live on every access; and what an
 * operator can change on it live. The operations act on the running loop only: the
 * context's configuration, when it next changes, sets the same fields again
 * ({@code aio:configure} makes a change last). Every attribute is described in
 * {@code docs/observability.md}.
 */
public interface AioContextStatsMBean {
    String getName();

    String getThreadName();

    String getFdMonitor();

    /** Why the context is not on the monitor it was asked for; empty if it is. */
    String getFdMonitorNote();

    long getIterations();

    long getWaits();

    long getBottomHalvesRun();

    long getFdsDispatched();

    long getTimerPasses();

    long getPollHits();

    long getPollMisses();

    long getPollNs();

    long getNotifierWrites();

    long getMonitorSwaps();

    long getCallbackFailures();

    int getHandlers();

    int getTimersPending();

    long getPollMaxNs();

    /** How the poll time grows after a miss; 0 doubles it. */
    long getPollGrow();

    /** How the poll time shrinks after a long wait; 0 resets it to 0. */
    long getPollShrink();

    long getAioMaxBatch();

    int getThreadPoolMin();

    int getThreadPoolMax();

    int getPoolThreads();

    int getPoolInFlight();

    /** The disk-I/O engine in use; empty before the first request. */
    String getDiskEngine();

    int getDiskInFlight();

    /** The last configuration update that was rejected, and why; empty if none was. */
    String getLastRejection();

    // ---------------------------------------------------------------- operations

    /**
     * Switches the fd monitor ({@code poll}, {@code epoll}, {@code io_uring}, or {@code auto}
     * for QEMU's policy) at the loop's next safe point, waiting up to 2 s for it.
     *
     * @return what the context runs on now, and why if it is not the one asked for
     * @throws IllegalArgumentException for any other name (JMX wraps it in a
     *     {@code RuntimeMBeanException})
     */
    String useFdMonitor(String name);

    /**
     * Switches the disk-I/O engine ({@code threads}, {@code native}, {@code io_uring}, or
     * {@code auto} for the best available): requests in flight finish on the old engine,
     * the next ones use the new one.
     *
     * @throws IllegalArgumentException for any other name
     */
    String useDiskEngine(String name);

    /**
     * Sets adaptive polling: {@code maxNs} (0 turns polling off), {@code grow} and
     * {@code shrink} (0 = double / reset), as {@code poll-max-ns}, {@code poll-grow} and
     * {@code poll-shrink} do; every handler's poll time starts over.
     *
     * @throws IllegalArgumentException naming the negative value; nothing is changed then
     */
    void setPollParams(long maxNs, long grow, long shrink);
}
