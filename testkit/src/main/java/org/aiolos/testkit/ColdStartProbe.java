package org.aiolos.testkit;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.aiolos.api.AioContext;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.linux.EventFd;

/**
 * Run in a JVM of its own by {@link FdMonitorContract}, as the first thing that JVM does:
 * the adaptive-polling scenario whose readiness shows only through a poll callback, on the
 * monitor of the contract subclass named by the first argument (wired by its own
 * {@code factory()} and {@code newContext}). A handler is dispatched once through its
 * eventfd (so it joins polling, and its poll time is set from that first wait); then work
 * appears only in memory, and a blocking poll must find it by busy polling. If the first
 * wait had shrunk the poll time to 0, that poll would sleep forever: the parent kills the
 * JVM and fails.
 *
 * <p>Arguments: the contract subclass, poll-max-ns.
 */
public final class ColdStartProbe {
    private ColdStartProbe() {
    }

    public static void main(String[] args) throws Exception {
        Constructor<?> make = Class.forName(args[0]).getDeclaredConstructor();
        make.setAccessible(true);
        FdMonitorContract suite = (FdMonitorContract) make.newInstance();
        Method factoryOf = FdMonitorContract.class.getDeclaredMethod("factory");
        Method contextOf = FdMonitorContract.class.getDeclaredMethod("newContext", ContextSpec.class);
        FdMonitorFactory factory = (FdMonitorFactory) factoryOf.invoke(suite);
        long maxNs = Long.parseLong(args[1]);
        CallbackFailures failures = new CallbackFailures();
        AioContext ctx = (AioContext) contextOf.invoke(suite, new ContextSpec("cold-start", factory, null, failures));
        AtomicBoolean pending = new AtomicBoolean();
        AtomicInteger fdReads = new AtomicInteger();
        AtomicInteger pollReadies = new AtomicInteger();
        try (EventFd kick = EventFd.open(false)) {
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
                    + fdReads.get());
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
        } finally {
            ctx.close();
        }
        failures.assertNone();
    }
}
