package org.aiolos.core.loop;

import org.aiolos.linux.EventFd;

/**
 * How any thread wakes a context's loop: QEMU's {@code aio_notify} and
 * {@code aio_notify_accept} in {@code util/async.c} and the context's own event notifier.
 * The protocol ({@link NotifyProtocol}: {@code notified} and {@code notify_me}, checked by
 * the jcstress module) decides whether the eventfd must be written at all: only when the
 * loop is about to block.
 *
 * <p>If a write fails (the eventfd in a bad state), the work is queued already, so the
 * caller must not see it: from then until a write succeeds the loop waits at most
 * {@value #DEGRADED_WAIT_NS} ns at a time ({@link #capWait}), where QEMU would sleep through
 * that wake-up.
 */
final class ContextNotifier {
    static final long DEGRADED_WAIT_NS = 1_000_000L;
    private static final System.Logger LOG = System.getLogger("org.aiolos.core");

    private final String contextName;
    private final NotifyProtocol protocol = new NotifyProtocol();
    private final EventFd eventFd = EventFd.open(false);
    private final LoopStats stats;
    private volatile boolean degraded;

    ContextNotifier(String contextName, LoopStats stats) {
        this.contextName = contextName;
        this.stats = stats;
    }

    int fd() {
        return eventFd.fd();
    }

    /** QEMU {@code aio_notify}: any thread. */
    void wakeUp() {
        if (protocol.signal()) {
            write();
        }
    }

    /**
     * The eventfd write. EventFd counts the calls in flight and closes only after the last
     * one, so a wake-up racing close() never writes to a recycled fd number.
     */
    private void write() {
        try {
            eventFd.set();
            stats.notifierWrites.increment();
            if (degraded) {
                degraded = false;
            }
        } catch (RuntimeException e) {
            if (!degraded) {
                degraded = true;
                LOG.log(System.Logger.Level.WARNING, "AioContext ''" + contextName + "'': waking the loop failed ("
                        + e.getMessage() + "); it now waits at most 1 ms at a time until a wake-up succeeds", e);
            }
        }
    }

    /** The loop is about to block: true when a notification is pending (then it must not). */
    boolean enterBlocking() {
        return protocol.enterBlocking();
    }

    void leaveBlocking() {
        protocol.leaveBlocking();
    }

    /** QEMU {@code aio_notify_accept}: home thread, after the wait. */
    void accept() {
        protocol.accept();
    }

    /** The notifier's poll callback: busy polling sees a wake-up without a system call. */
    boolean isNotified() {
        return protocol.isNotified();
    }

    /** The notifier's read handler: the eventfd is drained lazily, by a dispatched handler. */
    void drain() {
        eventFd.testAndClear();
    }

    /** The external-loop source's prepare opens its window (a full fence before the timeout). */
    void openExternalWindow() {
        protocol.openExternalWindow();
    }

    void closeExternalWindow() {
        protocol.closeExternalWindow();
    }

    /** {@code timeout} (ns, -1 forever), shortened while wake-ups fail. */
    long capWait(long timeout) {
        return degraded && Long.compareUnsigned(timeout, DEGRADED_WAIT_NS) > 0 ? DEGRADED_WAIT_NS : timeout;
    }

    void close() {
        eventFd.close();
    }
}
