package org.aiolos.core.loop;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The lock-free LIFO of enqueued bottom halves (QEMU {@code bh_list}; {@code aio_bh_enqueue}
 * and {@code aio_bh_dequeue} in {@code util/async.c}):
 * any thread enqueues; the home thread takes the whole list at once.
 */
public final class BhList {
    private static final VarHandle HEAD;

    static {
        try {
            HEAD = MethodHandles.lookup().findVarHandle(BhList.class, "head", BottomHalfImpl.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused")
    private volatile BottomHalfImpl head;

    /**
     * Sets PENDING plus {@code newFlags}; links the BH only if it was not pending already,
     * so a BH is on at most one list, once.
     */
    void enqueue(BottomHalfImpl bh, int newFlags) {
        int old = bh.orFlags(BottomHalfImpl.PENDING | newFlags);
        if ((old & BottomHalfImpl.PENDING) == 0) {
            BottomHalfImpl h;
            do {
                h = (BottomHalfImpl) HEAD.getVolatile(this);
                bh.next = h; // published by the CAS below (release)
            } while (!HEAD.compareAndSet(this, h, bh));
        }
    }

    /** Detaches and returns the whole list, newest first (home thread). */
    BottomHalfImpl takeAll() {
        return (BottomHalfImpl) HEAD.getAndSet(this, (BottomHalfImpl) null);
    }

    /** The newest enqueued BH, for scans; follow {@code next} (acquire). */
    BottomHalfImpl peek() {
        return (BottomHalfImpl) HEAD.getAcquire(this);
    }
}
