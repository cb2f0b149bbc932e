package org.aiolos.threadpool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Requests that reached DONE and wait for the home thread: a lock-free LIFO (Treiber
 * stack) that workers and cancellers push to and the completion bottom half empties in
 * one swap. The push CAS and the taking swap are volatile, so whatever a pusher wrote
 * before pushing (the outcome, the DONE state) is visible to the taker.
 */
final class FinishedStack {
    private static final VarHandle TOP;

    static {
        try {
            TOP = MethodHandles.lookup().findVarHandle(FinishedStack.class, "top", Request.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused")
    private volatile Request<?> top;

    /** Any thread. */
    void push(Request<?> r) {
        Request<?> t;
        do {
            t = (Request<?>) TOP.getVolatile(this);
            r.doneNext = t; // published by the CAS
        } while (!TOP.compareAndSet(this, t, r));
    }

    /** Whether anything is pushed and not yet taken. */
    boolean hasAny() {
        return TOP.getVolatile(this) != null;
    }

    /** Takes everything pushed so far, newest push first, linked through {@code doneNext}. */
    Request<?> takeAll() {
        return (Request<?>) TOP.getAndSet(this, (Request<?>) null);
    }
}
