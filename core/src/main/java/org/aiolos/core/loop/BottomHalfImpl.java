package org.aiolos.core.loop;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import org.aiolos.api.AioContext;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.ReentrancyGuard;

/**
 * A bottom half (QEMU {@code QEMUBH}). Its flags change atomically from any thread; its
 * link is written only while it is off every list (before the CAS that publishes it) or
 * by the home thread that dequeues it.
 */
final class BottomHalfImpl implements BottomHalf {
    /** Linked into the context's list or a slice. */
    static final int PENDING = 1;
    /** Run the callback when dequeued. */
    static final int SCHEDULED = 2;
    /** Drop when dequeued; never run again. */
    static final int DELETED = 4;
    /** Drop after running once. */
    static final int ONESHOT = 8;
    /** Scheduled idle: no progress, and the loop may sleep up to 10 ms first. */
    static final int IDLE = 16;

    /** Scheduled and not deleted: it runs at its next dequeue (QEMU's test in {@code aio_bh_poll}). */
    static boolean isLive(int flags) {
        return (flags & (SCHEDULED | DELETED)) == SCHEDULED;
    }

    private static final VarHandle FLAGS;

    static {
        try {
            FLAGS = MethodHandles.lookup().findVarHandle(BottomHalfImpl.class, "flags", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final ContextImpl ctx;
    final String name;
    final Runnable callback;
    final ReentrancyGuard guard;
    @SuppressWarnings("unused") // accessed through FLAGS
    private volatile int flags;
    /** Next in the LIFO list or slice it is on. */
    BottomHalfImpl next;

    BottomHalfImpl(ContextImpl ctx, String name, Runnable callback, ReentrancyGuard guard, int initialFlags) {
        this.ctx = ctx;
        this.name = Objects.requireNonNull(name, "name");
        this.callback = Objects.requireNonNull(callback, "callback");
        this.guard = guard;
        this.flags = initialFlags;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public AioContext context() {
        return ctx;
    }

    @Override
    public void schedule() {
        requireNotDeleted("schedule");
        ctx.enqueue(this, SCHEDULED);
    }

    @Override
    public void scheduleIdle() {
        requireNotDeleted("scheduleIdle");
        ctx.enqueue(this, SCHEDULED | IDLE);
    }

    @Override
    public void cancel() {
        // Clears SCHEDULED only: the BH stays linked and is skipped when dequeued.
        FLAGS.getAndBitwiseAnd(this, ~SCHEDULED);
    }

    @Override
    public void delete() {
        if ((flags() & DELETED) != 0) {
            return;
        }
        ctx.enqueue(this, DELETED);
    }

    @Override
    public boolean isDeleted() {
        return (flags() & DELETED) != 0;
    }

    private void requireNotDeleted(String op) {
        if ((flags() & DELETED) != 0) {
            throw new IllegalStateException("bottom half '" + name + "' of AioContext '" + ctx.name()
                    + "' was deleted; " + op + " is not allowed after delete");
        }
    }

    /** Acquire read, pairing with the release in the atomic updates (QEMU 5142397c79). */
    int flags() {
        return (int) FLAGS.getAcquire(this);
    }

    /** Atomically ORs in {@code bits}; returns the previous flags. */
    int orFlags(int bits) {
        return (int) FLAGS.getAndBitwiseOr(this, bits);
    }

    /**
     * Dequeue step: clears PENDING, SCHEDULED and IDLE at once and returns what they were.
     * From this instant a concurrent schedule re-links the BH into the context's list.
     */
    int takeFlags() {
        return (int) FLAGS.getAndBitwiseAnd(this, ~(PENDING | SCHEDULED | IDLE));
    }

    @Override
    public String toString() {
        return "bottom half '" + name + "'";
    }
}
