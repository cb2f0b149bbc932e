package org.aiolos.fdmon.epoll;

import org.aiolos.api.fdmon.FdMonitor;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.api.fdmon.FdMonitorHost;
import org.aiolos.api.fdmon.FdMonitorUnavailableException;
import org.aiolos.linux.Epoll;
import org.aiolos.linux.ProbeOnce;
import org.aiolos.linux.SyscallException;
import org.osgi.service.component.annotations.Component;

/**
 * Opens {@link EpollFdMonitor}s. Under QEMU's policy a context starts on poll(2) and
 * moves here once it has 64 fds; a configuration may also name {@code epoll} directly.
 */
@Component(service = FdMonitorFactory.class,
        property = {FdMonitorFactory.NAME_PROPERTY + "=" + FdMonitorFactory.EPOLL, "service.ranking:Integer=0"})
public final class EpollFdMonitorFactory implements FdMonitorFactory {
    private final ProbeOnce availability = new ProbeOnce(Epoll::probe);

    @Override
    public String name() {
        return EPOLL;
    }

    @Override
    public String unavailableReason() {
        return availability.get().unavailableReason();
    }

    @Override
    public FdMonitor open(FdMonitorHost host) {
        try {
            return new EpollFdMonitor(host);
        } catch (SyscallException e) {
            throw new FdMonitorUnavailableException(e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "epoll(7) fd monitor factory";
    }
}
