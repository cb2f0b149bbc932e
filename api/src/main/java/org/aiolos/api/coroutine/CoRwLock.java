package org.aiolos.api.coroutine;

/**
 * A readers-writer lock for coroutines (QEMU {@code CoRwlock}). Fair: once a writer
 * waits, new readers queue behind it; waiters are served in arrival order. Use only from
 * coroutines.
 */
public interface CoRwLock {

    /** Takes it shared, yielding while a writer holds it or waits (QEMU {@code qemu_co_rwlock_rdlock}). */
    void readLock();

    /** Takes it exclusive, yielding until it is free (QEMU {@code qemu_co_rwlock_wrlock}). */
    void writeLock();

    /**
     * Turns the caller's read lock into a write lock, yielding until the other readers
     * leave (QEMU {@code qemu_co_rwlock_upgrade}). Another writer may run in between.
     *
     * @throws IllegalStateException if it is not read-locked
     */
    void upgrade();

    /**
     * Turns the caller's write lock into a read lock without yielding (QEMU
     * {@code qemu_co_rwlock_downgrade}).
     *
     * @throws IllegalStateException if it is not write-locked
     */
    void downgrade();

    /**
     * Releases a read or the write lock (QEMU {@code qemu_co_rwlock_unlock}).
     *
     * @throws IllegalStateException if it is not locked
     */
    void unlock();
}
