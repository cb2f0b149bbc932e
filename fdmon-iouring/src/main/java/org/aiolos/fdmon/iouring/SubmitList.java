package org.aiolos.fdmon.iouring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Registrations with changes the home thread must write to the ring (QEMU
 * {@code submit_list}): a lock-free stack any thread pushes onto and only the home thread
 * empties, all at once, so there is no ABA hazard.
 */
final class SubmitList {
    private static final VarHandle HEAD;

    static {
        try {
            HEAD = MethodHandles.lookup().findVarHandle(SubmitList.class, "head", PollRegistration.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // through HEAD
    private volatile PollRegistration head;

    /**
     * Marks {@code r} with {@code bits} and pushes it unless it is already listed. The
     * flags are set before the push, so the home thread, which clears them only after it
     * took the list, sees them.
     */
    void mark(PollRegistration r, int bits) {
        int old = r.orFlags(PollRegistration.PENDING | bits);
        if ((old & PollRegistration.PENDING) != 0) {
            return;
        }
        PollRegistration h;
        do {
            h = (PollRegistration) HEAD.getVolatile(this);
            r.nextPending = h; // published by the CAS (volatile write)
        } while (!HEAD.compareAndSet(this, h, r));
    }

    /** Takes everything pushed so far, oldest first. Home thread. */
    PollRegistration takeAll() {
        PollRegistration r = (PollRegistration) HEAD.getAndSet(this, (PollRegistration) null);
        PollRegistration reversed = null;
        while (r != null) {
            PollRegistration next = r.nextPending;
            r.nextPending = reversed;
            reversed = r;
            r = next;
        }
        return reversed;
    }

    boolean isEmpty() {
        return HEAD.getVolatile(this) == null;
    }
}
