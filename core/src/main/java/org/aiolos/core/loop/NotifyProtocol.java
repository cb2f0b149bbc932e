package org.aiolos.core.loop;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * QEMU's notify protocol ({@code aio_notify} and {@code aio_notify_accept} in
 * {@code util/async.c}, {@code aio_poll} in {@code util/aio-posix.c}) on its own, so it can be
 * checked with jcstress
 * exactly as the loop runs it.
 *
 * <p>The producer ({@link #signal()}, any thread) stores {@code notified} then loads
 * {@code notifyMe}; the consumer ({@link #enterBlocking()}, home thread) stores
 * {@code notifyMe} then loads {@code notified}. Both pairs are volatile store → volatile
 * load (StoreLoad): at least one side sees the other, so either the loop does not block
 * or the producer writes the eventfd. Never skip the eventfd write because
 * {@code notified} was already true: that loses wake-ups (QEMU's BUG2 model).
 */
public final class NotifyProtocol {
    private static final VarHandle NOTIFY_ME;
    private static final VarHandle NOTIFIED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            NOTIFY_ME = l.findVarHandle(NotifyProtocol.class, "notifyMe", int.class);
            NOTIFIED = l.findVarHandle(NotifyProtocol.class, "notified", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Bit 0: external-loop window open; bits 1..31: blocking polls × 2. Written by home only. */
    @SuppressWarnings("unused")
    private volatile int notifyMe;
    @SuppressWarnings("unused")
    private volatile boolean notified;

    /**
     * Producer half of {@code aio_notify}: marks the context notified.
     *
     * @return true if the loop may be blocked, so the caller must write the eventfd
     */
    public boolean signal() {
        NOTIFIED.setVolatile(this, true);                 // StoreLoad with the load below
        return (int) NOTIFY_ME.getVolatile(this) != 0;
    }

    /**
     * Consumer half, before a wait with a non-zero timeout: announces the loop may block.
     *
     * @return true if a notify is already pending, so the loop must not block
     */
    public boolean enterBlocking() {
        NOTIFY_ME.setVolatile(this, (int) NOTIFY_ME.getOpaque(this) + 2); // StoreLoad with the load below
        return (boolean) NOTIFIED.getVolatile(this);
    }

    /** After the wait: release, so the wait completes before producers stop kicking. */
    public void leaveBlocking() {
        NOTIFY_ME.setRelease(this, (int) NOTIFY_ME.getOpaque(this) - 2);
    }

    /**
     * QEMU {@code aio_notify_accept}: clears the flag before events are processed, so a
     * notify that arrives while they are processed stays pending for the next iteration.
     * The volatile store orders the later (volatile) reads of the BH list after it.
     */
    public void accept() {
        NOTIFIED.setVolatile(this, false);
    }

    /** Whether a notify is pending (the notifier's poll callback). */
    public boolean isNotified() {
        return (boolean) NOTIFIED.getVolatile(this);
    }

    /** External-loop prepare: opens the window (full fence through the RMW). */
    public void openExternalWindow() {
        NOTIFY_ME.getAndBitwiseOr(this, 1);
    }

    /** External-loop check: closes the window. */
    public void closeExternalWindow() {
        NOTIFY_ME.getAndBitwiseAnd(this, ~1);
    }
}
