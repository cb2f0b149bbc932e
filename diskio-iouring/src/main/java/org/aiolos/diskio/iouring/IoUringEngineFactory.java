package org.aiolos.diskio.iouring;

import org.aiolos.api.AioContext;
import org.aiolos.api.diskio.DiskIoEngine;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.linux.Errno;
import org.aiolos.linux.IoUring;
import org.aiolos.linux.SyscallException;
import org.osgi.service.component.annotations.Component;

/**
 * Opens {@link IoUringEngine}s. Ranked above {@code native} (10) and {@code threads} (0):
 * it is the best available engine where the kernel allows io_uring. Unavailable when a
 * ring cannot be set up (io_uring disabled by sysctl or seccomp, too old a kernel) or
 * lacks {@code IORING_FEAT_NODROP}, which the engine needs so that no completion is lost
 * when the CQ is full.
 *
 * <p>Engines queue their requests on the fd monitor's ring when the context's monitor is
 * io_uring ({@link IoUringEngine}). The system property {@value #LEND_PROPERTY}{@code =false}
 * keeps every engine on its private ring, as before QEMU 10.2: a switch for comparing the
 * two (bench/nbd-ring.sh), read when an engine opens.
 */
@Component(service = DiskIoEngineFactory.class,
        property = {DiskIoEngineFactory.NAME_PROPERTY + "=" + DiskIoEngineFactory.IO_URING,
            "service.ranking:Integer=20"})
public final class IoUringEngineFactory implements DiskIoEngineFactory {
    /** Set to {@code false} to keep engines off the monitor's ring. */
    public static final String LEND_PROPERTY = "aiolos.io_uring.shared-ring";
    private volatile String probed;

    @Override
    public String name() {
        return IO_URING;
    }

    @Override
    public String unavailableReason() {
        String p = probed;
        if (p == null) {
            try (IoUring ring = IoUring.open(2, 0)) {
                p = missing(ring);
            } catch (SyscallException e) {
                p = e.call() + " failed: " + Errno.describe(e.errno());
            }
            probed = p;
        }
        return p.isEmpty() ? null : p;
    }

    private static String missing(IoUring ring) {
        return (ring.features() & IoUring.IORING_FEAT_NODROP) == 0
                ? "io_uring lacks IORING_FEAT_NODROP; Linux 5.5 or newer is needed" : "";
    }

    @Override
    public DiskIoEngine open(AioContext ctx) {
        if (ctx == null) {
            throw new NullPointerException("ctx");
        }
        IoUring ring;
        try {
            ring = IoUring.open(IoUringEngine.ENTRIES, 0);
        } catch (SyscallException e) {
            throw new IllegalStateException("cannot open the io_uring engine: " + e.call() + " failed: "
                    + Errno.describe(e.errno()), e);
        }
        String why = missing(ring);
        if (!why.isEmpty()) {
            ring.close();
            throw new IllegalStateException("cannot open the io_uring engine: " + why);
        }
        try {
            return new IoUringEngine(ctx, ring, !"false".equals(System.getProperty(LEND_PROPERTY)));
        } catch (RuntimeException | Error e) {
            ring.close();
            throw e;
        }
    }

    @Override
    public String toString() {
        return "io_uring disk-I/O engine factory";
    }
}
