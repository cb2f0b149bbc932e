package org.aiolos.core.diskio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.fdmon.iouring.IoUringFdMonitorFactory;
import org.junit.jupiter.api.Test;

/** The engine suite on the io_uring engine in a context whose fd monitor is itself io_uring (ring in ring). */
class IoUringEngineUnderIoUringMonitorTest extends DiskEngineContract {

    @Override
    protected DiskIoEngineFactory factory() {
        return IoUringEngineTest.FACTORY;
    }

    @Override
    protected ContextOptions options(String name) {
        FdMonitorProviders monitors = new FdMonitorProviders();
        monitors.add(new IoUringFdMonitorFactory(), 0);
        return super.options(name).withFdMonitors(monitors).withFdMonitor("io_uring");
    }

    @Test
    void theContextRunsOnTheIoUringMonitor() {
        assertEquals("io_uring", ctx.fdMonitorName());
    }
}
