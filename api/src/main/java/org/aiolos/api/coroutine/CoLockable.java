package org.aiolos.api.coroutine;

import java.util.Objects;
import java.util.concurrent.locks.Lock;

/**
 * A lock that {@link CoQueue#wait(CoLockable)} releases while it waits (QEMU
 * {@code QemuLockable}): a {@link CoMutex}, or a thread lock adapted by {@link #of(Lock)}.
 */
public interface CoLockable {

    void lock();

    void unlock();

    /**
     * Adapts a thread lock. It must not stay held across a yield: with the continuation
     * backend the coroutine may resume on another thread, which does not own it.
     */
    static CoLockable of(Lock lock) {
        Objects.requireNonNull(lock, "lock");
        return new CoLockable() {
            @Override
            public void lock() {
                lock.lock();
            }

            @Override
            public void unlock() {
                lock.unlock();
            }

            @Override
            public String toString() {
                return lock.toString();
            }
        };
    }
}
