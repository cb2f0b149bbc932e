package org.aiolos.api.coroutine;

import org.aiolos.api.AioContext;

/**
 * A coroutine (QEMU {@code Coroutine}): a body that runs on the thread that enters it,
 * until it yields ({@link Coroutines#yieldNow()}) or returns, and then gives control back
 * to whoever entered it. Created by {@link Coroutines#create}; it does not run until
 * entered.
 *
 * <p>A coroutine that has returned is finished for good: entering it again fails.
 * Its execution resources go back to a pool and serve later coroutines, but this handle
 * never runs anything again.
 */
public interface Coroutine {

    /** A name for diagnostics; error messages use it. */
    String name();

    /**
     * Runs it now in the calling thread, recorded as running in the thread's current
     * context (QEMU {@code qemu_coroutine_enter}); see {@link #enter(AioContext)}.
     */
    void enter();

    /**
     * Runs it now in the calling thread, recording {@code ctx} as the context it runs in
     * (QEMU {@code qemu_aio_coroutine_enter}). Returns when it yields or returns, after
     * the coroutines it woke meanwhile have run in turn, depth first: those woken by the
     * coroutine that stopped most recently run before those woken earlier.
     *
     * @param ctx the context it runs in, or null for a thread without one
     * @throws IllegalStateException if it is running, scheduled, sleeping or finished
     *     (the message names which, and who scheduled it); or, if its body threw, the
     *     body's exception once every coroutine woken meanwhile has run
     */
    void enter(AioContext ctx);

    /**
     * Enters it unless it is already entered (QEMU {@code qemu_coroutine_enter_if_inactive}).
     *
     * @return whether it was entered
     */
    boolean enterIfInactive();

    /**
     * Wakes it where it last ran (QEMU {@code aio_co_wake}): see
     * {@link Coroutines#wake(Coroutine)}.
     */
    void wake();

    /**
     * Whether it is entered (QEMU {@code qemu_coroutine_entered}): running, or waiting for
     * a coroutine it entered to yield.
     */
    boolean isEntered();

    /** Whether its body has returned or thrown. */
    boolean isFinished();

    /** The context it last ran in (QEMU {@code qemu_coroutine_get_aio_context}), or null. */
    AioContext context();

    /**
     * Who scheduled it ({@code "aio_co_schedule"}, {@code "co_sleep_ns"}), or null when it is
     * not scheduled. A scheduled coroutine cannot be entered or scheduled again.
     */
    String scheduledBy();
}
