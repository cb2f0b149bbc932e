package org.aiolos.linuxaio;

import org.aiolos.api.AioContext;
import org.aiolos.api.diskio.DiskIoEngine;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.linux.Errno;
import org.aiolos.linux.EventFd;
import org.aiolos.linux.LinuxAio;
import org.aiolos.linux.SyscallException;
import org.osgi.service.component.annotations.Component;

/**
 * Opens {@link LinuxAioEngine}s. Unavailable when the kernel has no AIO (ENOSYS) or
 * {@code /proc/sys/fs/aio-max-nr} cannot hold one more context of 1,024 events (EAGAIN),
 * which is probed once with a real {@code io_setup}.
 */
// Publishes the pre-1.0 name property too, for one version (see LEGACY_NAME_PROPERTY).
@SuppressWarnings("deprecation")
@Component(service = DiskIoEngineFactory.class,
        property = {DiskIoEngineFactory.NAME_PROPERTY + "=" + DiskIoEngineFactory.NATIVE,
            DiskIoEngineFactory.LEGACY_NAME_PROPERTY + "=" + DiskIoEngineFactory.NATIVE, "service.ranking:Integer=" + LinuxAioEngineFactory.RANKING})
public final class LinuxAioEngineFactory implements DiskIoEngineFactory {
    /** Its {@code service.ranking}, and its {@link #ranking()} outside OSGi. */
    static final int RANKING = 10;

    /** "" when Linux AIO works here, otherwise why not. */
    private volatile String probed;

    @Override
    public String name() {
        return NATIVE;
    }

    @Override
    public int ranking() {
        return RANKING;
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

    private static String probe() {
        try {
            LinuxAio.destroy(LinuxAio.setup(LinuxAioEngine.MAX_EVENTS));
            return "";
        } catch (SyscallException e) {
            return describe(e);
        }
    }

    private static String describe(SyscallException e) {
        return e.call() + " failed: " + Errno.describe(e.errno())
                + (e.errno() == Errno.EAGAIN ? " (raise /proc/sys/fs/aio-max-nr)" : "");
    }

    @Override
    public DiskIoEngine open(AioContext ctx) {
        if (ctx == null) {
            throw new NullPointerException("ctx");
        }
        EventFd notifier = EventFd.open(false);
        if (notifier.isPipe()) {
            notifier.close();
            throw new IllegalStateException("the native engine needs an eventfd (IOCB_FLAG_RESFD); this kernel has none");
        }
        long aioCtx;
        try {
            aioCtx = LinuxAio.setup(LinuxAioEngine.MAX_EVENTS);
        } catch (SyscallException e) {
            notifier.close();
            throw new IllegalStateException("cannot open the native engine: " + describe(e), e);
        }
        try {
            return new LinuxAioEngine(ctx, aioCtx, notifier);
        } catch (RuntimeException | Error e) {
            notifier.close();
            LinuxAio.destroy(aioCtx);
            throw e;
        }
    }

    @Override
    public String toString() {
        return "Linux AIO (native) disk-I/O engine factory";
    }
}
