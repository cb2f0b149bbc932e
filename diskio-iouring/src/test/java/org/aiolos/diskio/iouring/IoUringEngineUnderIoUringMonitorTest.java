package org.aiolos.diskio.iouring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.aiolos.api.AioContext;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.core.Aiolos;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.DiskIoEngineProviders;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.fdmon.iouring.IoUringFdMonitorFactory;
import org.aiolos.testkit.ContextSpec;
import org.aiolos.testkit.DiskEngineContract;
import org.junit.jupiter.api.Test;

/** The engine suite on the io_uring engine in a context whose fd monitor is itself io_uring (ring in ring). */
class IoUringEngineUnderIoUringMonitorTest extends DiskEngineContract {

    @Override
    protected DiskIoEngineFactory factory() {
        return IoUringEngineTest.FACTORY;
    }

    @Override
    protected AioContext newContext(ContextSpec spec) {
        FdMonitorProviders monitors = new FdMonitorProviders();
        monitors.add(new IoUringFdMonitorFactory(), 0);
        ContextOptions options = ContextOptions.defaults(spec.name()).withFdMonitors(monitors)
                .withFdMonitor(FdMonitorFactory.IO_URING)
                .withFailureHandler((c, source, failure) -> spec.failures().record(source, failure));
        if (spec.diskEngine() != null) {
            DiskIoEngineProviders engines = new DiskIoEngineProviders();
            engines.add(spec.diskEngine(), 0);
            options = options.withDiskEngines(engines);
        }
        return Aiolos.newContext(options);
    }

    @Test
    void theContextRunsOnTheIoUringMonitor() {
        assertEquals(FdMonitorFactory.IO_URING, ctx.fdMonitorName());
    }
}
