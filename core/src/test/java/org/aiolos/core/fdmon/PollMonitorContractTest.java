package org.aiolos.core.fdmon;

import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.fdmon.poll.PollFdMonitorFactory;

/** The shared fd-monitor suite on the poll monitor. */
class PollMonitorContractTest extends FdMonitorContract {
    private static final FdMonitorFactory FACTORY = new PollFdMonitorFactory();

    @Override
    String monitorName() {
        return "poll";
    }

    @Override
    FdMonitorFactory factory() {
        return FACTORY;
    }
}
