package org.aiolos.core.osgi;

import org.aiolos.core.AiolosContext;
import org.aiolos.api.BackendStatus;

/**
 * An operator switching a context's fd monitor, disk-I/O engine or thread pool live, by name or
 * {@code auto} (the default policy), from the shell ({@code aio:use}) or JMX (the
 * AioContext MBean). The switch lasts until the context's configuration next changes that
 * field; {@code aio:configure} makes it last.
 */
final class BackendSwitch {
    static final String AUTO = "auto";

    private BackendSwitch() {
    }

    /**
     * Switches the fd monitor and waits (up to 2 s) for the loop's next safe point.
     *
     * @return what the context runs on now, with the reason if it is not the one asked for
     * @throws IllegalArgumentException for a name that is not a monitor, listing the valid ones
     */
    static String fdMonitor(AiolosContext ctx, String name) throws InterruptedException {
        String want = fdMonitorName(name);
        ctx.useFdMonitor(want.isEmpty() ? null : want);
        String now = MonitorWait.until(ctx, want, 2_000);
        String note = ctx.fdMonitorNote();
        return ctx.name() + ": fd monitor " + now + (note == null ? "" : " (" + note + ")");
    }

    /**
     * @return the fd monitor's name, or empty for {@code auto}
     * @throws IllegalArgumentException for a name that is not a monitor, listing the valid ones
     */
    static String fdMonitorName(String name) {
        return checked(name, IOThreadSettings.FD_MONITORS, "fd monitor", "poll, epoll, io_uring or auto");
    }

    /**
     * Switches the disk-I/O engine and waits (up to 2 s) for the loop's next safe point:
     * requests in flight finish on the old one, the next ones go to the new one.
     *
     * @return what serves now, as configured, with the note if it is not the one asked for
     * @throws IllegalArgumentException for a name that is not an engine, listing the valid ones
     */
    static String diskEngine(AiolosContext ctx, String name) throws InterruptedException {
        String want = checked(name, IOThreadSettings.AIO_ENGINES, "disk-I/O engine", "threads, native, io_uring or auto");
        ctx.useDiskEngine(want.isEmpty() ? null : want);
        return applied(ctx, "aio-engine", want);
    }

    /**
     * Switches the thread-pool provider (any registered provider's name, see
     * {@code aio:backends}) the same way.
     */
    static String threadPool(AiolosContext ctx, String name) throws InterruptedException {
        String want = AUTO.equals(name) ? "" : name;
        if (want == null || (!want.isEmpty() && want.isBlank())) {
            throw new IllegalArgumentException("unknown thread-pool provider '" + name + "'; use a provider's name"
                    + " (aio:backends lists them) or auto");
        }
        ctx.useThreadPool(want.isEmpty() ? null : want);
        return applied(ctx, "thread-pool", want);
    }

    private static String applied(AiolosContext ctx, String kind, String want) throws InterruptedException {
        BackendStatus now = MonitorWait.applied(ctx, kind, want.isEmpty() ? null : want, 2_000);
        return ctx.name() + ": " + kind + " " + now.describe() + (now.note() == null ? "" : "; " + now.note());
    }

    /** @return the name, or empty for {@code auto} */
    private static String checked(String name, java.util.Set<String> valid, String what, String choices) {
        if (AUTO.equals(name)) {
            return "";
        }
        if (name == null || name.isEmpty() || !valid.contains(name)) {
            throw new IllegalArgumentException("unknown " + what + " '" + name + "'; use " + choices);
        }
        return name;
    }
}
