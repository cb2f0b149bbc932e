package org.aiolos.fdmon.iouring;

import org.aiolos.api.fdmon.FdMonitor;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.api.fdmon.FdMonitorHost;
import org.aiolos.api.fdmon.FdMonitorUnavailableException;
import org.aiolos.linux.Availability;
import org.aiolos.linux.IoUring;
import org.aiolos.linux.ProbeOnce;
import org.aiolos.linux.SyscallException;
import org.osgi.service.component.annotations.Component;

/**
 * Opens {@link IoUringFdMonitor}s. Under QEMU's policy every context prefers io_uring
 * when a ring can be created; when it cannot (disabled by the
 * {@code kernel.io_uring_disabled} sysctl, blocked by seccomp, a kernel too old, out of
 * memory) this factory says why ({@link IoUring#probe()}, the probe the io_uring disk
 * engine makes too) and contexts run on epoll or poll.
 */
@Component(service = FdMonitorFactory.class,
        property = {FdMonitorFactory.NAME_PROPERTY + "=" + FdMonitorFactory.IO_URING, "service.ranking:Integer=0"})
public final class IoUringFdMonitorFactory implements FdMonitorFactory {
    private final ProbeOnce availability = new ProbeOnce(IoUring::probe);

    @Override
    public String name() {
        return IO_URING;
    }

    @Override
    public String unavailableReason() {
        return availability.get().unavailableReason();
    }

    @Override
    public FdMonitor open(FdMonitorHost host) {
        IoUring ring;
        try {
            ring = IoUring.openWithRequiredFeatures(IoUringFdMonitor.ENTRIES);
        } catch (SyscallException e) {
            throw new FdMonitorUnavailableException(Availability.failed(e).unavailableReason(), e);
        } catch (UnsupportedOperationException e) {
            throw new FdMonitorUnavailableException(e.getMessage(), e);
        }
        return new IoUringFdMonitor(host, ring);
    }

    @Override
    public String toString() {
        return "io_uring fd monitor factory";
    }
}
