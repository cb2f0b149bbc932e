package org.aiolos.fdmon.iouring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.aiolos.api.fdmon.FdWatch;

/**
 * The monitor's record of one watch (QEMU keeps these flags on the {@code AioHandler}
 * itself; here the watch belongs to the context, so the monitor keeps its own record).
 *
 * <p>{@link #flags} and {@link #nextPending} are shared between the thread calling
 * {@code update} and the home thread; everything else is the home thread's.
 */
final class PollRegistration {
    /** On the submit list. */
    static final int PENDING = 1;
    /** A POLL_ADD must be written to the ring. */
    static final int ADD = 1 << 1;
    /** The watch was retired: cancel its poll and forget it after the kernel's last completion. */
    static final int REMOVE = 1 << 2;

    private static final VarHandle FLAGS;

    static {
        try {
            FLAGS = MethodHandles.lookup().findVarHandle(PollRegistration.class, "flags", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final FdWatch watch;
    final long id;
    @SuppressWarnings("unused") // through FLAGS
    private volatile int flags;
    /** Link in the submit list; written before the publishing CAS, read after taking the list. */
    PollRegistration nextPending;

    // home thread
    /** A POLL_ADD for this watch is in the ring or the kernel and its completion not yet seen. */
    boolean armed;
    /** The home thread has seen REMOVE: no more re-arms; freed once {@link #armed} is false. */
    boolean removing;
    /** In the monitor's registration table (its ADD was seen). */
    boolean inTable;
    /** Link in the registration table's chain for this slot. */
    PollRegistration nextInSlot;

    PollRegistration(FdWatch watch) {
        this.watch = watch;
        this.id = watch.registrationId();
    }

    /** Sets {@code bits}; returns the previous flags (volatile read-modify-write). */
    int orFlags(int bits) {
        return (int) FLAGS.getAndBitwiseOr(this, bits);
    }

    /** Takes and clears every flag (volatile read-modify-write). */
    int takeFlags() {
        return (int) FLAGS.getAndSet(this, 0);
    }

    @Override
    public String toString() {
        return "poll registration " + Long.toHexString(id) + " of fd " + watch.fd();
    }
}
