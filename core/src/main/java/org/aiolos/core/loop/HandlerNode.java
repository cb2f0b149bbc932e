package org.aiolos.core.loop;

import java.util.function.BooleanSupplier;
import org.aiolos.api.FdEvents;
import org.aiolos.api.fdmon.FdWatch;

/**
 * One registration of an fd (QEMU {@code AioHandler}). Immutable apart from the loop's
 * bookkeeping: replacing a handler creates a new node and retires this one.
 *
 * <p>The list links and poll state are touched by the home thread only. {@link #deleted}
 * is written under the registry lock by any thread and read by the home thread before
 * every callback, hence volatile.
 */
final class HandlerNode implements FdWatch {
    final int fd;
    final int events;
    final long registrationId;
    final Runnable onReadable;
    final Runnable onWritable;
    final BooleanSupplier poll;
    final Runnable onPollReady;
    /** Set by setFdPollHooks after registration; read by the home thread. */
    volatile Runnable pollBegin;
    volatile Runnable pollEnd;
    /** The context's own notifier: its activity never counts as progress. */
    final boolean isNotifier;

    volatile boolean deleted;

    // ---- home-thread state
    /** Readiness reported by the monitor, consumed by dispatch. */
    int revents;
    /** io_poll returned true while busy polling. */
    boolean pollReady;
    /** Absolute REALTIME ns after which an idle poll handler is pruned; 0 = not armed. */
    long pollIdleTimeout;
    /** Per-handler adaptive polling time (QEMU 10.0+). */
    long pollNs;

    boolean onPollList;
    HandlerNode pollPrev;
    HandlerNode pollNext;

    ReadyQueue readyOwner;
    HandlerNode readyPrev;
    HandlerNode readyNext;

    HandlerNode(int fd, long registrationId, Runnable onReadable, Runnable onWritable,
                BooleanSupplier poll, Runnable onPollReady, boolean isNotifier) {
        this.fd = fd;
        this.registrationId = registrationId;
        this.onReadable = onReadable;
        this.onWritable = onWritable;
        // Busy polling needs somewhere to report success, as in QEMU.
        this.poll = onPollReady == null ? null : poll;
        this.onPollReady = onPollReady;
        this.isNotifier = isNotifier;
        this.events = (onReadable != null ? FdEvents.READ : 0) | (onWritable != null ? FdEvents.WRITE : 0);
    }

    @Override
    public int fd() {
        return fd;
    }

    @Override
    public int events() {
        return events;
    }

    @Override
    public long registrationId() {
        return registrationId;
    }

    @Override
    public boolean isDeleted() {
        return deleted;
    }

    boolean hasPoll() {
        return poll != null;
    }

    @Override
    public String toString() {
        return "handler[fd=" + fd + ", events=" + FdEvents.toString(events) + ", id="
                + Long.toHexString(registrationId) + (deleted ? ", deleted" : "") + "]";
    }
}
