package org.aiolos.core.osgi;

/**
 * What JMX shows of one IOThread's context ({@code org.aiolos:type=AioContext,name=<name>}):
 * its loop counters, fd monitor and parameters, read live on every access.
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
}
