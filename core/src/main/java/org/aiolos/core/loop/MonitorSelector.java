package org.aiolos.core.loop;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.aiolos.api.fdmon.FdMonitor;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.core.BackendProviders;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.fdmon.poll.PollFdMonitorFactory;

/**
 * Chooses a context's fd monitor and swaps it at a safe point of the loop (the start of
 * an outermost poll, never during a wait or a dispatch).
 *
 * <p>The default policy is QEMU's (spec §3.1): io_uring when a provider can open one;
 * otherwise poll(2), upgrading to epoll once 64 fds are registered, and staying there. A
 * configured name overrides it. A monitor that fails (io_uring that cannot be set up, an
 * {@code epoll_ctl} error) is disabled for this context for good, with the reason kept for
 * {@link #note()}.
 */
final class MonitorSelector {
    static final int EPOLL_ENABLE_THRESHOLD = 64;
    private static final System.Logger LOG = System.getLogger("org.aiolos.core");

    private final ContextImpl ctx;
    private final FdMonitorProviders providers;
    private final Runnable listener = this::providersChanged;
    private final FdMonitorFactory builtinPoll = new PollFdMonitorFactory();
    /** Monitor names this context no longer uses, and why. */
    private final Map<String, String> disabled = new ConcurrentHashMap<>();
    private volatile String configured;
    private volatile boolean reconsider;
    private volatile String note;
    /** The factory of the current monitor. home */
    private FdMonitorFactory current;

    MonitorSelector(ContextImpl ctx, String configured, FdMonitorProviders providers) {
        this.ctx = ctx;
        this.configured = configured;
        this.providers = providers;
        providers.addListener(listener);
    }

    FdMonitor openInitial() {
        return openBest(0);
    }

    /** Start of an outermost poll: apply any pending change. */
    void atSafePoint() {
        if (reconsider) {
            reconsider = false;
            reselect();
        }
    }

    /** The external-loop path has no outer poll; its prepare is a safe point when not nested. */
    void atSafePointIfIdle(int depth) {
        if (depth == 0) {
            atSafePoint();
        }
    }

    /** After a registration change: maybe time for the epoll upgrade. */
    void handlersChanged() {
        FdMonitorFactory cur = current;
        if (configured == null && cur != null && FdMonitorFactory.POLL.equals(cur.name())
                && !disabled.containsKey(FdMonitorFactory.EPOLL)
                && ctx.registry.liveCountRacy() >= EPOLL_ENABLE_THRESHOLD
                && providers.best(FdMonitorFactory.EPOLL) != null) {
            reconsider = true;
        }
    }

    void monitorFailed(FdMonitor mon, String reason) {
        if (disabled.putIfAbsent(mon.name(), reason) == null) {
            LOG.log(System.Logger.Level.WARNING, "AioContext ''{0}'': fd monitor {1} failed ({2}); "
                    + "moving every handler to another monitor and not using {1} again", ctx.name(), mon.name(), reason);
        }
        reconsider = true;
    }

    void configure(String name) {
        configured = (name == null || name.isBlank()) ? null : name;
        reconsider = true;
        ctx.wakeUp();
    }

    private void providersChanged() {
        reconsider = true;
        ctx.wakeUp();
    }

    String note() {
        return note;
    }

    void close() {
        providers.removeListener(listener);
    }

    private void reselect() {
        FdMonitorFactory chosen = choose(ctx.registry.liveCountRacy());
        if (chosen == current) {
            return;
        }
        String from = current == null ? "none" : current.name();
        FdMonitor next = open(chosen);
        if (next == null) {
            next = openBest(ctx.registry.liveCountRacy());
        }
        ctx.installMonitor(next);
        LOG.log(System.Logger.Level.INFO, "AioContext ''{0}'': fd monitor {1} -> {2}", ctx.name(), from, next.name());
    }

    /** Opens the best monitor, falling back as factories fail. Sets current. */
    private FdMonitor openBest(int liveCount) {
        for (int attempt = 0; attempt < 4; attempt++) {
            FdMonitor m = open(choose(liveCount));
            if (m != null) {
                return m;
            }
        }
        current = builtinPoll;
        return builtinPoll.open(ctx);
    }

    private FdMonitor open(FdMonitorFactory factory) {
        try {
            FdMonitor m = factory.open(ctx);
            current = factory;
            return m;
        } catch (RuntimeException e) {
            String reason = e.getMessage() == null ? e.toString() : e.getMessage();
            disabled.put(factory.name(), reason);
            note = factory.name() + " unavailable: " + reason;
            LOG.log(System.Logger.Level.INFO, "AioContext ''{0}'': fd monitor {1} unavailable ({2}); falling back",
                    ctx.name(), factory.name(), reason);
            return null;
        }
    }

    private FdMonitorFactory choose(int liveCount) {
        String want = configured;
        if (want != null) {
            if (FdMonitorFactory.POLL.equals(want)) {
                note = null;
                return pollFactory();
            }
            String why = disabled.get(want);
            BackendProviders.Provider<FdMonitorFactory> p = why == null ? providers.best(want) : null;
            if (p != null) {
                note = null;
                return p.factory();
            }
            if (why == null) {
                why = unavailableReason(want);
            }
            note = "configured fd monitor '" + want + "' is not usable ("
                    + (why != null ? why : "no available provider") + "); using poll";
            return pollFactory();
        }
        if (!disabled.containsKey(FdMonitorFactory.IO_URING)) {
            BackendProviders.Provider<FdMonitorFactory> p = providers.best(FdMonitorFactory.IO_URING);
            if (p != null) {
                return p.factory();
            }
            noteUnavailable(FdMonitorFactory.IO_URING);
        }
        if (!disabled.containsKey(FdMonitorFactory.EPOLL)) {
            BackendProviders.Provider<FdMonitorFactory> p = providers.best(FdMonitorFactory.EPOLL);
            boolean onEpoll = current != null && FdMonitorFactory.EPOLL.equals(current.name());
            if (p != null && (onEpoll || liveCount >= EPOLL_ENABLE_THRESHOLD)) {
                return p.factory(); // no automatic downgrade once on epoll, as in QEMU
            }
        }
        return pollFactory();
    }

    /**
     * A provider of the preferred kind exists but said it cannot work here (io_uring
     * disabled by sysctl, for instance): keep its reason, so the context can say why it
     * is not on it.
     */
    private void noteUnavailable(String name) {
        String why = unavailableReason(name);
        if (why != null) {
            note = name + " unavailable: " + why;
        }
    }

    /** Why the providers named {@code name} cannot open monitors here; null if none says so. */
    private String unavailableReason(String name) {
        for (BackendProviders.Provider<FdMonitorFactory> p : providers.list()) {
            String why = p.name().equals(name) ? p.factory().unavailableReason() : null;
            if (why != null) {
                return why;
            }
        }
        return null;
    }

    private FdMonitorFactory pollFactory() {
        BackendProviders.Provider<FdMonitorFactory> p = providers.best(FdMonitorFactory.POLL);
        if (p != null) {
            return p.factory();
        }
        return builtinPoll; // always there, even without the fdmon-poll bundle

    }
}
