package org.aiolos.api.threadpool;

import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;

/**
 * What {@link ThreadPool#submitCo} waits for: the completion stores the outcome and wakes
 * the coroutine. Both sides run in the home thread, so plain fields suffice.
 */
final class CoResult<T> implements ThreadPool.Completion<T> {
    private final Coroutine waiter;
    boolean done;
    T result;
    Throwable failure;

    CoResult(Coroutine waiter) {
        this.waiter = waiter;
    }

    @Override
    public void complete(T value, Throwable thrown) {
        result = value;
        failure = thrown;
        done = true;
        Coroutines.wake(waiter);
    }
}
