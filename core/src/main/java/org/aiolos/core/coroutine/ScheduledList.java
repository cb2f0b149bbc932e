package org.aiolos.core.coroutine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The cross-thread half of {@link CoScheduler} (QEMU {@code scheduled_coroutines},
 * {@code aio_co_schedule} in {@code util/async.c}): claims a coroutine's scheduled marker by
 * CAS and pushes it onto a lock-free LIFO
 * that any thread may push onto; the owning context takes the whole list in scheduling
 * order. Kept apart from the context so the protocol can be stress-tested on its own.
 */
final class ScheduledList {
    private static final VarHandle HEAD;

    static {
        try {
            HEAD = MethodHandles.lookup().findVarHandle(ScheduledList.class, "head", CoroutineImpl.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // through HEAD
    private volatile CoroutineImpl head;

    /**
     * Claims {@code co}'s scheduled marker for {@code by} and queues it.
     *
     * @return whether the list was empty (the caller then schedules the bottom half)
     * @throws IllegalStateException if it is already scheduled, naming by whom
     */
    boolean claimAndPush(CoroutineImpl co, String by) {
        String previous = co.claimScheduled(by);
        if (previous != null) {
            throw new IllegalStateException(by + ": " + co + " was already scheduled in '" + previous + "'");
        }
        CoroutineImpl h;
        do {
            h = (CoroutineImpl) HEAD.getVolatile(this);
            co.schedNext = h; // published by the CAS (volatile: release)
        } while (!HEAD.compareAndSet(this, h, co));
        return h == null;
    }

    /** Takes everything pushed so far, first pushed first, linked through {@code schedNext}. */
    CoroutineImpl takeAll() {
        // getAndSet is volatile: acquires every push, and the coroutines' state with it.
        CoroutineImpl lifo = (CoroutineImpl) HEAD.getAndSet(this, (CoroutineImpl) null);
        CoroutineImpl fifo = null;
        while (lifo != null) {
            CoroutineImpl next = lifo.schedNext;
            lifo.schedNext = fifo;
            fifo = lifo;
            lifo = next;
        }
        return fifo;
    }

    /** The newest entry (for descriptions only). */
    CoroutineImpl peek() {
        return (CoroutineImpl) HEAD.getVolatile(this);
    }
}
