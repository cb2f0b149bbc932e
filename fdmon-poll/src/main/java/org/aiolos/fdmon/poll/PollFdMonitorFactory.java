package org.aiolos.fdmon.poll;

import org.aiolos.api.fdmon.FdMonitor;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.api.fdmon.FdMonitorHost;
import org.osgi.service.component.annotations.Component;

/**
 * Opens {@link PollFdMonitor}s. poll(2) works on every Linux, so it is never unavailable;
 * core also uses this class directly as the fallback when no monitor service is present.
 */
@Component(service = FdMonitorFactory.class,
        property = {FdMonitorFactory.NAME_PROPERTY + "=" + FdMonitorFactory.POLL, "service.ranking:Integer=0"})
public final class PollFdMonitorFactory implements FdMonitorFactory {

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
        return "poll(2) fd monitor factory";
    }
}
