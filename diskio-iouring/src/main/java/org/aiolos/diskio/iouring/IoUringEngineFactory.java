package org.aiolos.diskio.iouring;

import org.aiolos.api.AioContext;
import org.aiolos.api.diskio.DiskIoEngine;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.linux.Availability;
import org.aiolos.linux.IoUring;
import org.aiolos.linux.ProbeOnce;
import org.aiolos.linux.SyscallException;
import org.osgi.service.component.annotations.Component;

/**
 * Opens {@link IoUringEngine}s. Ranked above {@code native} (10) and {@code threads} (0):
 * it is the best available engine where the kernel allows io_uring. Unavailable when a
 * ring cannot be set up (io_uring disabled by sysctl or seccomp, too old a kernel) or
 * lacks {@code IORING_FEAT_NODROP}, which the engine needs so that no completion is lost
 * when the CQ is full: {@link IoUring#probe()}, the probe the io_uring fd monitor makes too.
 *
 * <p>Engines queue their requests on the fd monitor's ring when the context's monitor is
 * io_uring ({@link IoUringEngine}). The system property {@value #LEND_PROPERTY}{@code =false}
 * keeps every engine on its private ring, as before QEMU 10.2: a switch for comparing the
 * two (bench/nbd-ring.sh), read when an engine opens.
 */
// Publishes the pre-1.0 name property too, for one version (see LEGACY_NAME_PROPERTY).
@SuppressWarnings("deprecation")
@Component(service = DiskIoEngineFactory.class,
        property = {DiskIoEngineFactory.NAME_PROPERTY + "=" + DiskIoEngineFactory.IO_URING,
            DiskIoEngineFactory.LEGACY_NAME_PROPERTY + "=" + DiskIoEngineFactory.IO_URING,
            "service.ranking:Integer=" + IoUringEngineFactory.RANKING})
public final class IoUringEngineFactory implements DiskIoEngineFactory {
    /** Its {@code service.ranking}, and its {@link #ranking()} outside OSGi. */
    static final int RANKING = 20;

    /** Set to {@code false} to keep engines off the monitor's ring. */
    public static final String LEND_PROPERTY = "aiolos.io_uring.shared-ring";
    private final ProbeOnce availability = new ProbeOnce(IoUring::probe);

    @Override
    public String name() {
        return IO_URING;
    }

    @Override
    public int ranking() {
        return RANKING;
    }

    @Override
    public String unavailableReason() {
        return availability.get().unavailableReason();
    }

    @Override
    public DiskIoEngine open(AioContext ctx) {
        if (ctx == null) {
            throw new NullPointerException("ctx");
        }
        IoUring ring;
        try {
            ring = IoUring.openWithRequiredFeatures(IoUringEngine.ENTRIES);
        } catch (SyscallException e) {
            throw new IllegalStateException("cannot open the io_uring engine: "
                    + Availability.failed(e).unavailableReason(), e);
        } catch (UnsupportedOperationException e) {
            throw new IllegalStateException("cannot open the io_uring engine: " + e.getMessage(), e);
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
