package org.aiolos.fdmon.epoll;

import org.aiolos.api.AioContext;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.core.Aiolos;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.testkit.ContextSpec;
import org.aiolos.testkit.FdMonitorContract;
import org.junit.jupiter.api.Test;

/** The shared fd-monitor suite (testkit) on the epoll(7) monitor, in a core context where it is the only provider. */
class EpollMonitorContractTest extends FdMonitorContract {
    private static final FdMonitorFactory FACTORY = new EpollFdMonitorFactory();

    @Override
    protected String monitorName() {
        return FdMonitorFactory.EPOLL;
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

    /** The kernel drops an epoll registration when its file closes, without an event. */
    @Override
    protected ClosedFdReport closedFdReport() {
        return ClosedFdReport.NEVER;
    }

    /**
     * The suite above runs on a real epoll instance of the kernel: a context on this monitor holds
     * one more {@code anon_inode:[eventpoll]} descriptor, and gives it back when it closes.
     */
    @Test
    void theMonitorIsTheKernelsOwnAndLeavesWithItsContext() {
        assertEachContextHoldsOne("anon_inode:[eventpoll]");
    }
}
