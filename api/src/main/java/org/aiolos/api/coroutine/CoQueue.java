package org.aiolos.api.coroutine;

/**
 * A first-in, first-out queue of waiting coroutines, used like a condition variable
 * (QEMU {@code CoQueue}). It is not thread-safe by itself: use it from one context, or
 * hold the lock that guards it, as with a condition variable.
 */
public interface CoQueue {

    /**
     * Queues the calling coroutine at the tail, releases {@code lock} (if not null),
     * yields until woken, then takes {@code lock} again (QEMU {@code qemu_co_queue_wait}).
     *
     * @throws IllegalStateException outside a coroutine
     */
    void wait(CoLockable lock);

    /** As {@link #wait(CoLockable)} but queued at the head (QEMU {@code CO_QUEUE_WAIT_FRONT}). */
    void waitAtFront(CoLockable lock);

    /**
     * Wakes the first waiter (QEMU {@code qemu_co_queue_next}). In the same context a
     * coroutine caller lets it run when the caller yields; a caller outside any coroutine
     * runs it before this returns.
     *
     * @return false if nobody was waiting
     */
    boolean next();

    /**
     * Wakes the first waiter with {@code lock} released around the wake-up (QEMU
     * {@code qemu_co_enter_next}); usable outside coroutines.
     *
     * @return false if nobody was waiting
     */
    boolean enterNext(CoLockable lock);

    /** Wakes every waiter (QEMU {@code qemu_co_queue_restart_all}). */
    void restartAll();

    /** Wakes every waiter, releasing {@code lock} around each (QEMU {@code qemu_co_enter_all}). */
    void enterAll(CoLockable lock);

    /** Whether no coroutine waits (QEMU {@code qemu_co_queue_empty}). */
    boolean isEmpty();
}
