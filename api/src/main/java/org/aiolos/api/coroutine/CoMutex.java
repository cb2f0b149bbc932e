package org.aiolos.api.coroutine;

/**
 * A mutex for coroutines (QEMU {@code CoMutex}): a coroutine that cannot take it yields
 * instead of blocking its thread, and waiters are served roughly first come, first served
 * with the lock handed over directly to the next one. It works across contexts and
 * threads; a waiter is woken in the context where it last ran.
 *
 * <p>Lock and unlock only from coroutines. A coroutine that finishes while holding it
 * makes its enter fail (QEMU asserts there).
 */
public interface CoMutex extends CoLockable {

    /**
     * Takes the mutex, yielding until it is free (QEMU {@code qemu_co_mutex_lock}).
     *
     * @throws IllegalStateException outside a coroutine
     */
    @Override
    void lock();

    /**
     * Releases it and hands it to the next waiter, if any (QEMU {@code qemu_co_mutex_unlock}).
     * A waiter in the same context runs when the caller next yields or finishes.
     *
     * @throws IllegalStateException outside a coroutine, when it is not locked, or when
     *     another coroutine holds it
     */
    @Override
    void unlock();

    /**
     * Fails unless the calling coroutine holds it (QEMU {@code qemu_co_mutex_assert_locked}).
     *
     * @throws IllegalStateException naming the holder otherwise
     */
    void assertLocked();

    /** Whether some coroutine holds it. */
    boolean isLocked();
}
