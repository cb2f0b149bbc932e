package org.aiolos.fdmon.iouring;

import org.aiolos.api.fdmon.FdMonitor;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.api.fdmon.FdMonitorHost;
import org.aiolos.api.fdmon.FdMonitorUnavailableException;
import org.aiolos.linux.Errno;
import org.aiolos.linux.IoUring;
import org.aiolos.linux.SyscallException;
import org.osgi.service.component.annotations.Component;

/**
 * Opens {@link IoUringFdMonitor}s. Under QEMU's policy every context prefers io_uring
 * when a ring can be created; when it cannot (disabled by the
 * {@code kernel.io_uring_disabled} sysctl, blocked by seccomp, a kernel too old, out of
 * memory) this factory says why and contexts run on epoll or poll.
 */
@Component(service = FdMonitorFactory.class,
        property = {FdMonitorFactory.NAME_PROPERTY + "=" + FdMonitorFactory.IO_URING, "service.ranking:Integer=0"})
public final class IoUringFdMonitorFactory implements FdMonitorFactory {
    /**
     * Features relied upon: NODROP (5.5), so a full CQ parks completions instead of losing
     * one (a lost POLL_ADD completion is a lost event and a poll never re-armed); it comes
     * with TIMEOUT (5.4) and POLL_REMOVE (5.1). SINGLE_MMAP is optional (IoUring maps the
     * rings separately without it).
     */
    private static final int REQUIRED_FEATURES = IoUring.IORING_FEAT_NODROP;

    /** Probed once: "" when io_uring works here, otherwise why not. */
    private volatile String probed;

    @Override
    public String name() {
        return IO_URING;
    }

    @Override
    public String unavailableReason() {
        String p = probed;
        if (p == null) {
            p = probe();
            probed = p;
        }
        return p.isEmpty() ? null : p;
    }

    /** A tiny ring, set up and closed at once: does this kernel let us have one? */
    private static String probe() {
        try (IoUring ring = IoUring.open(2, 0)) {
            return missingFeatures(ring);
        } catch (SyscallException e) {
            return describe(e);
        }
    }

    private static String missingFeatures(IoUring ring) {
        if ((ring.features() & REQUIRED_FEATURES) != REQUIRED_FEATURES) {
            return "io_uring lacks IORING_FEAT_NODROP (features 0x" + Integer.toHexString(ring.features())
                    + "); Linux 5.5 or newer is needed";
        }
        return "";
    }

    private static String describe(SyscallException e) {
        return e.call() + " failed: " + Errno.describe(e.errno());
    }

    @Override
    public FdMonitor open(FdMonitorHost host) {
        IoUring ring;
        try {
            ring = IoUring.open(IoUringFdMonitor.ENTRIES, 0);
        } catch (SyscallException e) {
            throw new FdMonitorUnavailableException(describe(e), e);
        }
        String missing = missingFeatures(ring);
        if (!missing.isEmpty()) {
            ring.close();
            throw new FdMonitorUnavailableException(missing);
        }
        return new IoUringFdMonitor(host, ring);
    }

    @Override
    public String toString() {
        return "io_uring fd monitor factory";
    }
}
