package org.aiolos.api.diskio;

import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;

/**
 * The completion behind the coroutine variants of {@link DiskIoEngine}: the submitting
 * coroutine yields until it runs, and it wakes the coroutine unless that coroutine is the
 * one running (QEMU: "if the coroutine is not entered, aio_co_wake it").
 * Home thread only, so plain fields suffice.
 */
final class CoWait implements DiskIoEngine.IoCompletion {
    private final Coroutine co;
    private boolean done;
    private long result;

    private CoWait(Coroutine co) {
        this.co = co;
    }

    static CoWait begin() {
        Coroutine co = Coroutines.self();
        if (co == null) {
            throw new IllegalStateException("the coroutine variants of DiskIoEngine must be called from a coroutine");
        }
        // Before the request exists: a coroutine that cannot yield would leave it in flight
        // with a completion that later wakes the coroutine wherever it then waits.
        Coroutines.ensureCanYield();
        return new CoWait(co);
    }

    @Override
    public void complete(long r) {
        result = r;
        done = true;
        if (!co.isEntered()) {
            co.wake();
        }
    }

    long await() {
        // A loop, not a single yield: someone else may enter the coroutine before the
        // request is done (a spurious wake-up must not return a stale result).
        while (!done) {
            Coroutines.yieldNow();
        }
        return result;
    }
}
