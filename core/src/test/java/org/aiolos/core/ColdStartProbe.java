package org.aiolos.core;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.linux.EventFd;

/**
 * Run in a JVM of its own by {@link ColdStartTest}, as the first thing that JVM does: the
 * adaptive-polling scenario whose readiness shows only through a poll callback. A handler
 * is dispatched once through its eventfd (so it joins polling, and its poll time is set
 * from that first wait); then work appears only in memory, and a blocking poll must find
 * it by busy polling. If the first wait had shrunk the poll time to 0, that poll would
 * sleep forever: the parent kills the JVM and fails.
 *
 * <p>Arguments: the monitor's factory class, its name, poll-max-ns.
 */
public final class ColdStartProbe {
    private ColdStartProbe() {
    }

    public static void main(String[] args) throws Exception {
        FdMonitorFactory factory = (FdMonitorFactory) Class.forName(args[0]).getDeclaredConstructor().newInstance();
        String monitor = args[1];
        long maxNs = Long.parseLong(args[2]);
        if (factory.unavailableReason() != null) {
            System.out.println("monitor unavailable: " + factory.unavailableReason());
            return;
        }
        FdMonitorProviders providers = new FdMonitorProviders();
        providers.add(factory, 0);
        AtomicBoolean pending = new AtomicBoolean();
        AtomicInteger fdReads = new AtomicInteger();
        AtomicInteger pollReadies = new AtomicInteger();
        try (EventFd kick = EventFd.open(false);
             AiolosContext ctx = Aiolos.newContext(ContextOptions.defaults("cold-" + monitor)
                     .withFdMonitor(monitor).withFdMonitors(providers))) {
            ctx.poll(false);
            ctx.setEventNotifier(kick, () -> {
                kick.testAndClear();
                if (pending.getAndSet(false)) {
                    fdReads.incrementAndGet();
                }
            }, pending::get, () -> {
                if (pending.getAndSet(false)) {
                    pollReadies.incrementAndGet();
                }
            });
            ctx.setPollParams(maxNs, 0, 0);
            ctx.poll(false);
            pending.set(true);
            kick.set();
            ctx.poll(true);
            System.out.println("monitor " + ctx.fdMonitorName() + ": after the first dispatch fd reads "
                    + fdReads.get() + ", poll time " + ctx.pollNsOf(kick.fd()) + " ns");
            System.out.flush();
            // The dispatch re-armed the handler's one-shot poll on io_uring: that SQE must reach
            // the kernel before busy polling may start (need_wait, as in QEMU's fdmon-io_uring.c),
            // and a blocking poll would go straight to the kernel. A non-blocking poll submits it;
            // on poll and epoll it examines no fd (every handler has a poll callback).
            ctx.poll(false);
            pending.set(true); // in memory only: the eventfd stays quiet
            ctx.poll(true);
            System.out.println("busy polling found the work: poll-ready " + pollReadies.get()
                    + ", fd reads " + fdReads.get());
            ctx.setEventNotifier(kick, null, null, null);
        }
    }
}
