package org.aiolos.core.loop;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.aiolos.api.fdmon.FdMonitor;
import org.aiolos.api.fdmon.FdMonitorHost;
import org.aiolos.api.fdmon.FdWatch;
import org.aiolos.linux.Fds;

/**
 * A context's fd handlers and the monitor that watches them: QEMU's
 * {@code aio_set_fd_handler} and {@code aio_remove_fd_handler} in {@code util/aio-posix.c},
 * the {@code fdmon_ops->update} call they make, and what a monitor asks of its context
 * ({@link FdMonitorHost}: resolving registration ids, whether polling is disabled).
 *
 * <p>Writers (any thread) hold the registry's lock (QEMU's {@code list_lock}); the home
 * thread dispatches without it, reading each node's volatile {@code deleted} before every
 * callback. Replacing or removing a handler from another thread returns once its callbacks
 * are not running and will not start ({@link LoopState#awaitIterationEnd}).
 */
final class Handlers implements FdMonitorHost {
    final HandlerRegistry registry = new HandlerRegistry();
    private final String contextName;
    private final LoopStats stats;
    private final Runnable wakeUp;
    private final LoopState loop;
    private final BooleanSupplier inHome;
    private final BooleanSupplier closed;
    private final BooleanSupplier runsAnotherLoop;
    /** Written under the registry lock by the home thread (swap); read by anyone. */
    private volatile FdMonitor monitor;
    private MonitorSlot monitorSlot;

    /**
     * @param inHome whether the calling thread is the context's home thread
     * @param runsAnotherLoop whether the calling thread is running another context's callbacks
     */
    Handlers(String contextName, LoopStats stats, Runnable wakeUp, LoopState loop, BooleanSupplier inHome,
             BooleanSupplier closed, BooleanSupplier runsAnotherLoop) {
        this.contextName = contextName;
        this.stats = stats;
        this.wakeUp = wakeUp;
        this.loop = loop;
        this.inHome = inHome;
        this.closed = closed;
        this.runsAnotherLoop = runsAnotherLoop;
    }

    /** The slot that chooses the monitor; its first monitor is installed here. */
    void attach(MonitorSlot slot, FdMonitor first) {
        this.monitorSlot = slot;
        this.monitor = first;
    }

    FdMonitor monitor() {
        return monitor;
    }

    // ---------------------------------------------------------------- registration

    /** {@code setFdHandler}'s checks, then {@link #set}. */
    void setChecked(int fd, Runnable onReadable, Runnable onWritable, BooleanSupplier poll, Runnable onPollReady) {
        checkFd(fd);
        boolean deleting = onReadable == null && onWritable == null && (poll == null || onPollReady == null);
        if (!deleting && !Fds.isOpen(fd)) {
            throw new IllegalArgumentException("fd " + fd + " is not open (fcntl F_GETFD failed with EBADF); "
                    + "register a descriptor before closing it");
        }
        set(fd, onReadable, onWritable, poll, onPollReady, false, null);
    }

    void remove(int fd) {
        checkFd(fd);
        set(fd, null, null, null, null, false, null);
    }

    private static void checkFd(int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("fd must be >= 0, got " + fd);
        }
    }

    void setPollHooks(int fd, Runnable pollBegin, Runnable pollEnd) {
        registry.lock.lock();
        try {
            HandlerNode n = registry.find(fd);
            if (n != null) {
                n.pollBegin = pollBegin;
                n.pollEnd = pollEnd;
            }
        } finally {
            registry.lock.unlock();
        }
    }

    /**
     * QEMU {@code aio_set_fd_handler}: always a brand-new node; the old one is retired.
     *
     * @param expected when non-null, act only if it is still the live node of {@code fd}
     */
    HandlerNode set(int fd, Runnable onReadable, Runnable onWritable, BooleanSupplier poll, Runnable onPollReady,
                    boolean isNotifier, HandlerNode expected) {
        BooleanSupplier p = onPollReady == null ? null : poll;
        boolean deleting = onReadable == null && onWritable == null && p == null;
        HandlerNode created = null;
        HandlerNode retired = null;
        registry.lock.lock();
        try {
            HandlerNode old = registry.find(fd);
            if (expected != null && old != expected) {
                return null;
            }
            if (old != null && old.isNotifier && !isNotifier) {
                throw new IllegalArgumentException("fd " + fd + " is the context's own notifier");
            }
            FdMonitor watching = monitor;
            if (!deleting && watching != null && watching.ownsDescriptor(fd)) {
                throw new IllegalArgumentException("fd " + fd + " belongs to the context's own fd monitor ("
                        + watching.name() + ")");
            }
            if (deleting) {
                if (old == null) {
                    return null; // nothing to delete, and no notify (as in QEMU)
                }
                registry.remove(old);
            } else {
                created = registry.add(old, fd, onReadable, onWritable, p, onPollReady, isNotifier);
            }
            FdMonitor mon = monitor;
            if (mon != null) {
                update(mon, old, created);
            }
            if (old != null) {
                registry.retire(old);
                retired = old;
            }
        } finally {
            registry.lock.unlock();
        }
        monitorSlot.handlersChanged();
        wakeUp.run();
        if (retired != null && !inHome.getAsBoolean() && !runsAnotherLoop.getAsBoolean()) {
            loop.awaitIterationEnd(wakeUp, closed);
        }
        return created;
    }

    /** Caller holds the registry lock. */
    private void update(FdMonitor mon, FdWatch old, FdWatch created) {
        try {
            mon.update(old, created);
        } catch (RuntimeException e) {
            monitorSlot.monitorFailed(mon, "update threw " + e);
            return;
        }
        String failure = mon.failure();
        if (failure != null) {
            monitorSlot.monitorFailed(mon, failure);
        }
    }

    // ---------------------------------------------------------------- the loop's side

    /**
     * poll(2) says the fd is not open: it was closed while registered. Waiting on it again
     * would spin, so the handler is removed and the failure reported.
     */
    void dropClosedFd(HandlerNode n, CallbackRunner runner) {
        set(n.fd, null, null, null, null, false, n);
        runner.report(n, new IllegalStateException("fd " + n.fd + " was closed while its handler was registered in "
                + "AioContext '" + contextName + "'; the handler was removed"));
    }

    /** QEMU's {@code free_deleted_handlers}: retired nodes leave the poll list. Outermost level. */
    void freeDeleted(Consumer<HandlerNode> unlink) {
        if (registry.hasRetired()) {
            registry.drainRetired(unlink);
        }
    }

    /**
     * Installs {@code next}, registering every live handler in it first; the monitor slot
     * closes the old one right after. Home thread, at a safe point.
     */
    void install(FdMonitor next) {
        registry.lock.lock();
        try {
            registry.forEachLive(n -> next.update(null, n));
            monitor = next;
        } finally {
            registry.lock.unlock();
        }
        stats.monitorSwaps++;
    }

    /** The context closes: every live handler is retired at once (no callback runs after). */
    void retireAll() {
        registry.lock.lock();
        try {
            registry.forEachLive(n -> n.deleted = true);
        } finally {
            registry.lock.unlock();
        }
    }

    /** {@code fd}'s live node, read under the lock, or null. */
    HandlerNode find(int fd) {
        registry.lock.lock();
        try {
            return registry.find(fd);
        } finally {
            registry.lock.unlock();
        }
    }

    /** The longest current poll time among live handlers. */
    long maxPollNs() {
        registry.lock.lock();
        try {
            long[] max = {0};
            registry.forEachLive(n -> max[0] = Math.max(max[0], n.pollNs));
            return max[0];
        } finally {
            registry.lock.unlock();
        }
    }

    // ---------------------------------------------------------------- FdMonitorHost

    @Override
    public String contextName() {
        return contextName;
    }

    @Override
    public boolean pollingDisabled() {
        return registry.pollingDisabled();
    }

    @Override
    public FdWatch watch(long registrationId) {
        return registry.resolve(registrationId);
    }

    @Override
    public void wakeUp() {
        wakeUp.run();
    }
}
