package org.aiolos.fdmon.iouring;

import org.aiolos.api.AioContext;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.core.Aiolos;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.testkit.ContextSpec;
import org.aiolos.testkit.FdMonitorContract;
import org.junit.jupiter.api.Test;

/** The shared fd-monitor suite (testkit) on the io_uring monitor, in a core context where it is the only provider. */
class IoUringMonitorContractTest extends FdMonitorContract {
    private static final FdMonitorFactory FACTORY = new IoUringFdMonitorFactory();

    @Override
    protected String monitorName() {
        return FdMonitorFactory.IO_URING;
    }

    @Override
    protected FdMonitorFactory factory() {
        return FACTORY;
    }

    @Override
    protected AioContext newContext(ContextSpec spec) {
        FdMonitorProviders providers = new FdMonitorProviders();
        providers.add(spec.fdMonitor(), 0);
        return Aiolos.newContext(ContextOptions.defaults(spec.name()).withFdMonitors(providers)
                .withFdMonitor(spec.fdMonitor().name())
                .withFailureHandler((c, source, failure) -> spec.failures().record(source, failure)));
    }

    /** An armed POLL_ADD holds the file: close(2) of the number neither completes nor cancels it. */
    @Override
    protected ClosedFdReport closedFdReport() {
        return ClosedFdReport.WHEN_THE_FILE_HAS_AN_EVENT;
    }

    /** Readiness is the one the one-shot POLL_ADD saw when it completed (as QEMU's fdmon-io_uring.c). */
    @Override
    protected boolean reportsReadinessAsSeenEarlier() {
        return true;
    }

    /**
     * The suite above runs on a real io_uring instance of the kernel: a context on this monitor holds
     * one more {@code anon_inode:[io_uring]} descriptor, and gives it back when it closes.
     */
    @Test
    void theMonitorIsTheKernelsOwnAndLeavesWithItsContext() {
        assertEachContextHoldsOne("anon_inode:[io_uring]");
    }
}
