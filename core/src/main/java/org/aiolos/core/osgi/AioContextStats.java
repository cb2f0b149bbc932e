package org.aiolos.core.osgi;

import org.aiolos.core.AiolosContext;

/**
 * The MBean of one IOThread: every getter reads the context when JMX asks; the
 * operations act on the running context (through the same code as {@code aio:use}).
 */
final class AioContextStats implements AioContextStatsMBean {
    private final IOThreadRunner runner;

    AioContextStats(IOThreadRunner runner) {
        this.runner = runner;
    }

    private AiolosContext ctx() {
        return runner.context();
    }

    @Override
    public String getName() {
        return ctx().name();
    }

    @Override
    public String getThreadName() {
        Thread t = runner.ioThread().thread();
        return t == null ? "" : t.getName();
    }

    @Override
    public String getFdMonitor() {
        return ctx().fdMonitorName();
    }

    @Override
    public String getFdMonitorNote() {
        String note = ctx().fdMonitorNote();
        return note == null ? "" : note;
    }

    @Override
    public long getIterations() {
        return ctx().stats().iterations();
    }

    @Override
    public long getWaits() {
        return ctx().stats().waits();
    }

    @Override
    public long getBottomHalvesRun() {
        return ctx().stats().bottomHalvesRun();
    }

    @Override
    public long getFdsDispatched() {
        return ctx().stats().fdsDispatched();
    }

    @Override
    public long getTimerPasses() {
        return ctx().stats().timerPasses();
    }

    @Override
    public long getPollHits() {
        return ctx().stats().pollHits();
    }

    @Override
    public long getPollMisses() {
        return ctx().stats().pollMisses();
    }

    @Override
    public long getPollNs() {
        return ctx().stats().pollNs();
    }

    @Override
    public long getNotifierWrites() {
        return ctx().stats().notifierWrites();
    }

    @Override
    public long getMonitorSwaps() {
        return ctx().stats().monitorSwaps();
    }

    @Override
    public long getCallbackFailures() {
        return ctx().stats().callbackFailures();
    }

    @Override
    public int getHandlers() {
        return ctx().stats().handlers();
    }

    @Override
    public int getTimersPending() {
        return ctx().stats().timersPending();
    }

    @Override
    public long getPollMaxNs() {
        return ctx().pollParams().maxNs();
    }

    @Override
    public long getPollGrow() {
        return ctx().pollParams().grow();
    }

    @Override
    public long getPollShrink() {
        return ctx().pollParams().shrink();
    }

    @Override
    public long getAioMaxBatch() {
        return ctx().aioMaxBatch();
    }

    @Override
    public int getThreadPoolMin() {
        return ctx().threadPoolMin();
    }

    @Override
    public int getThreadPoolMax() {
        return ctx().threadPoolMax();
    }

    @Override
    public int getPoolThreads() {
        return ctx().threadPool().threadCount();
    }

    @Override
    public int getPoolInFlight() {
        return ctx().threadPool().inFlight();
    }

    @Override
    public String getDiskEngine() {
        String e = ctx().diskEngineName();
        return e == null ? "" : e;
    }

    @Override
    public int getDiskInFlight() {
        return ctx().diskIo().inFlight();
    }

    @Override
    public String getLastRejection() {
        String r = runner.lastRejection();
        return r == null ? "" : r;
    }

    @Override
    public String useFdMonitor(String name) {
        try {
            return BackendSwitch.fdMonitor(ctx(), name);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ctx().name() + ": fd monitor " + name + " asked for; interrupted while waiting for the swap";
        }
    }

    @Override
    public String useDiskEngine(String name) {
        try {
            return BackendSwitch.diskEngine(ctx(), name);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ctx().name() + ": disk-I/O engine " + name + " asked for; interrupted while waiting for the swap";
        }
    }

    @Override
    public void setPollParams(long maxNs, long grow, long shrink) {
        ctx().setPollParams(maxNs, grow, shrink);
    }
}
