package org.aiolos.core.fdmon;

import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.fdmon.iouring.IoUringFdMonitorFactory;

/** The shared fd-monitor suite on the io_uring monitor. */
class IoUringMonitorContractTest extends FdMonitorContract {
    private static final FdMonitorFactory FACTORY = new IoUringFdMonitorFactory();

    @Override
    String monitorName() {
        return "io_uring";
    }

    @Override
    FdMonitorFactory factory() {
        return FACTORY;
    }
}
