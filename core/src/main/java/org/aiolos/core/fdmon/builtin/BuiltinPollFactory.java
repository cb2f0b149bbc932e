package org.aiolos.core.fdmon.builtin;

import org.aiolos.api.fdmon.FdMonitor;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.api.fdmon.FdMonitorHost;

/**
 * The poll(2) monitor every context falls back to when no provider can open one (QEMU
 * builds {@code util/fdmon-poll.c} into every binary). Its {@code PollFdMonitor} is
 * compiled from the fdmon-poll module's source into this package of core at build time
 * (see core's pom), so there is one source, and core neither imports the fdmon-poll
 * bundle's package (whose update or refresh would rewire core) nor shares a package with
 * it on the module path.
 */
public final class BuiltinPollFactory implements FdMonitorFactory {

    @Override
    public String name() {
        return POLL;
    }

    @Override
    public FdMonitor open(FdMonitorHost host) {
        return new PollFdMonitor(host);
    }

    @Override
    public String toString() {
        return "built-in poll(2) fd monitor";
    }
}
