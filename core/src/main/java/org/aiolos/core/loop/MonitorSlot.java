package org.aiolos.core.loop;

import org.aiolos.api.fdmon.FdMonitor;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.core.BackendProviders.Provider;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.core.backend.BackendSlot;
import org.aiolos.core.backend.SlotHost;
import org.aiolos.core.fdmon.builtin.BuiltinPollFactory;

/**
 * A context's fd monitor in the {@link BackendSlot} life cycle: chosen by QEMU's policy
 * ({@code aio_context_setup} in {@code util/aio-posix.c}: io_uring when a provider can open
 * one; otherwise poll(2), upgrading to epoll once 64 fds are registered
 * ({@code fdmon_epoll_try_upgrade} in {@code util/fdmon-epoll.c}) and staying there), or by
 * a configured name. A monitor has no work of its own in flight, so a swap at a safe point
 * opens the new one, registers every live handler in it, and closes the old one at once.
 *
 * <p>A context always has a monitor: when no provider can open one, it runs on core's
 * built-in poll(2) monitor, which needs no bundle.
 */
final class MonitorSlot extends BackendSlot<FdMonitorFactory, FdMonitor> {
    static final int EPOLL_ENABLE_THRESHOLD = 64;

    private static final Provider<FdMonitorFactory> BUILTIN_POLL =
            new Provider<>(new BuiltinPollFactory(), FdMonitorFactory.POLL, Integer.MIN_VALUE);

    private final Handlers handlers;

    MonitorSlot(SlotHost host, Handlers handlers, String configured, FdMonitorProviders providers) {
        super(host, "fdmon", "AioContext '" + handlers.contextName() + "'", providers, configured);
        this.handlers = handlers;
    }

    /** The first monitor, opened in the constructing thread. */
    FdMonitor openInitial() {
        Choice<FdMonitorFactory> c = choose();
        setNote(c.note());
        return openChosen(c);
    }

    /** After a registration change: maybe time for the epoll upgrade. */
    void handlersChanged() {
        Opened<FdMonitorFactory, FdMonitor> cur = current;
        if (configured() == null && cur != null && FdMonitorFactory.POLL.equals(cur.backend().name())
                && handlers.registry.liveCountRacy() >= EPOLL_ENABLE_THRESHOLD && best(FdMonitorFactory.EPOLL) != null) {
            requestReselect();
        }
    }

    /** {@code mon} failed (an update threw, or it reported a failure): move off it for good. */
    void monitorFailed(FdMonitor mon, String reason) {
        Opened<FdMonitorFactory, FdMonitor> cur = current;
        if (cur != null && cur.backend() == mon) {
            markFailed(cur.factory(), reason);
        }
    }

    @Override
    protected boolean isBuiltin(FdMonitorFactory factory) {
        return factory == BUILTIN_POLL.factory();
    }

    /** The built-in poll is never withdrawn; a poll provider's arrival is a better choice, not a removal. */
    @Override
    protected boolean stillRegistered(FdMonitorFactory factory) {
        return isBuiltin(factory) || super.stillRegistered(factory);
    }

    @Override
    protected Choice<FdMonitorFactory> choose() {
        String want = configured();
        if (want == null) {
            return policy();
        }
        if (FdMonitorFactory.POLL.equals(want)) {
            return new Choice<>(poll(), null);
        }
        Choice<FdMonitorFactory> configured = configured(want);
        if (configured.provider() != null) {
            return configured;
        }
        Choice<FdMonitorFactory> fallback = policy();
        return new Choice<>(fallback.provider(), "configured fd monitor '" + want + "' is not available ("
                + configured.note() + "); using " + fallback.provider().name() + " until it is");
    }

    /** QEMU's default: io_uring, else poll with the epoll upgrade at 64 fds. */
    private Choice<FdMonitorFactory> policy() {
        Provider<FdMonitorFactory> uring = best(FdMonitorFactory.IO_URING);
        if (uring != null) {
            return new Choice<>(uring, null);
        }
        String note = null;
        if (!providers.list().isEmpty()) {
            String why = whyNot(FdMonitorFactory.IO_URING);
            note = why.equals("available") ? null : "io_uring unavailable: " + why;
        }
        Provider<FdMonitorFactory> epoll = best(FdMonitorFactory.EPOLL);
        Opened<FdMonitorFactory, FdMonitor> cur = current;
        boolean onEpoll = cur != null && FdMonitorFactory.EPOLL.equals(cur.name());
        if (epoll != null && (onEpoll || handlers.registry.liveCountRacy() >= EPOLL_ENABLE_THRESHOLD)) {
            return new Choice<>(epoll, note); // no automatic downgrade once on epoll, as in QEMU
        }
        return new Choice<>(poll(), note);
    }

    private Provider<FdMonitorFactory> poll() {
        Provider<FdMonitorFactory> p = best(FdMonitorFactory.POLL);
        return p != null ? p : BUILTIN_POLL; // always there, even without the fdmon-poll bundle
    }

    @Override
    protected void chosen(Choice<FdMonitorFactory> choice, boolean retiredCurrent) {
        if (current != null) {
            return; // the current monitor stays
        }
        FdMonitor next = openChosen(choice);
        handlers.install(next);
    }

    /** Opens the chosen monitor, or the next choice while factories fail, or the built-in poll. */
    private FdMonitor openChosen(Choice<FdMonitorFactory> choice) {
        Choice<FdMonitorFactory> c = choice;
        for (int attempt = 0; attempt < 8; attempt++) {
            try {
                Opened<FdMonitorFactory, FdMonitor> o = open(c.provider());
                if (o != null) {
                    return o.backend();
                }
            } catch (RuntimeException failed) {
                // markFailed has recorded why; the next choice skips it
            }
            if (isBuiltin(c.provider().factory())) {
                break;
            }
            c = choose();
            setNote(c.note());
        }
        return open(BUILTIN_POLL).backend();
    }

    @Override
    protected FdMonitor openBackend(FdMonitorFactory factory) {
        return factory.open(handlers);
    }

    @Override
    protected int inFlight(FdMonitor monitor) {
        return 0;
    }

    @Override
    protected void closeBackend(FdMonitor monitor) {
        monitor.close();
    }
}
