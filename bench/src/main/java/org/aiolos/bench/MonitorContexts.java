package org.aiolos.bench;

import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.fdmon.epoll.EpollFdMonitorFactory;
import org.aiolos.fdmon.iouring.IoUringFdMonitorFactory;
import org.aiolos.fdmon.poll.PollFdMonitorFactory;

/** Contexts pinned to one fd monitor, with all three monitors available. */
final class MonitorContexts {
    private MonitorContexts() {
    }

    static FdMonitorProviders allMonitors() {
        FdMonitorProviders p = new FdMonitorProviders();
        p.add(new PollFdMonitorFactory(), 0);
        p.add(new EpollFdMonitorFactory(), 0);
        p.add(new IoUringFdMonitorFactory(), 0);
        return p;
    }

    /** A context on {@code monitor}; fails if the context could not use it. */
    static AiolosContext on(String monitor, String name) {
        AiolosContext ctx = Aiolos.newContext(ContextOptions.defaults(name).withFdMonitor(monitor)
                .withFdMonitors(allMonitors()));
        if (!monitor.equals(ctx.fdMonitorName())) {
            ctx.close();
            throw new IllegalStateException("wanted " + monitor + ", got " + ctx.fdMonitorName() + ": "
                    + ctx.fdMonitorNote());
        }
        return ctx;
    }
}
