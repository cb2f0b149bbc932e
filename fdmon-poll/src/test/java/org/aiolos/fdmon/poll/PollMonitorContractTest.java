package org.aiolos.fdmon.poll;

import org.aiolos.api.AioContext;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.core.Aiolos;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.testkit.ContextSpec;
import org.aiolos.testkit.FdMonitorContract;

/** The shared fd-monitor suite (testkit) on the poll(2) monitor, in a core context where it is the only provider. */
class PollMonitorContractTest extends FdMonitorContract {
    private static final FdMonitorFactory FACTORY = new PollFdMonitorFactory();

    @Override
    protected String monitorName() {
        return FdMonitorFactory.POLL;
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
}
