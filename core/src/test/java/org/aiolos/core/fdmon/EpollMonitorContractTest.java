package org.aiolos.core.fdmon;

import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.fdmon.epoll.EpollFdMonitorFactory;

/** The shared fd-monitor suite on the epoll monitor. */
class EpollMonitorContractTest extends FdMonitorContract {
    private static final FdMonitorFactory FACTORY = new EpollFdMonitorFactory();

    @Override
    String monitorName() {
        return "epoll";
    }

    @Override
    FdMonitorFactory factory() {
        return FACTORY;
    }
}
