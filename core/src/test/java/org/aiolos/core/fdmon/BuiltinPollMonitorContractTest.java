package org.aiolos.core.fdmon;

import org.aiolos.api.AioContext;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.core.Aiolos;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.testkit.ContextSpec;
import org.aiolos.testkit.FdMonitorContract;

/**
 * The shared fd-monitor suite (testkit) on core's built-in poll(2) monitor: the context has
 * no fd-monitor provider at all, so it runs on the monitor every context falls back to.
 */
class BuiltinPollMonitorContractTest extends FdMonitorContract {

    @Override
    protected String monitorName() {
        return FdMonitorFactory.POLL;
    }

    @Override
    protected FdMonitorFactory factory() {
        return null;
    }

    @Override
    protected AioContext newContext(ContextSpec spec) {
        return Aiolos.newContext(ContextOptions.defaults(spec.name()).withFdMonitors(new FdMonitorProviders())
                .withFailureHandler((c, source, failure) -> spec.failures().record(source, failure)));
    }
}
