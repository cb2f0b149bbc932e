package org.aiolos.core.loop;

import java.util.concurrent.locks.LockSupport;

/**
 * Where the home thread's loop is: the nesting depth of poll/dispatch (low 32 bits) and how
 * many outermost polls have ended (high 32 bits), in one volatile word. Written by the home
 * thread only (entering and leaving a level, which the depth always cost), read by any: a
 * thread that retired a handler waits on it for the iteration that may be running the
 * handler's callback to end ({@link #awaitIterationEnd}), without the loop paying a second
 * fenced store.
 */
final class LoopState {
    private static final long DEPTH = 0xFFFF_FFFFL;

    private volatile long word;

    int depth() {
        return (int) word;
    }

    /** Home thread, entering nesting level {@code d + 1}. */
    void enter(int d) {
        word = (word & ~DEPTH) | (d + 1); // volatile store, as the depth always was
    }

    /** Home thread, back at level {@code d}; leaving the outermost level counts one iteration. */
    void leave(int d) {
        long s = word;
        word = d == 0 ? ((s >>> 32) + 1) << 32 : (s & ~DEPTH) | d;
    }

    /**
     * A foreign thread retired a handler (a volatile store of its {@code deleted}): returns
     * once none of its callbacks can be running or start. The retirement comes before the
     * read of {@link #word} here, and the home thread stores the word before it reads
     * {@code deleted} in its next dispatch (all volatile, so one total order): either the
     * loop was outside every poll, or the iteration that may have passed the check ends and
     * any later one sees the handler deleted.
     *
     * @param wakeUp wakes the loop; called after the read, because a wake-up sent before it
     *     may have been accepted by an earlier iteration, and this one could then block with
     *     nothing left to wake it, while this one is seen by the iteration read here
     * @param closed true once the context is closed (nothing runs any more)
     */
    void awaitIterationEnd(Runnable wakeUp, java.util.function.BooleanSupplier closed) {
        long s = word;
        if ((int) s == 0) {
            return;
        }
        wakeUp.run();
        long iteration = s >>> 32;
        for (int spins = 0; ; spins++) {
            long now = word;
            if ((int) now == 0 || (now >>> 32) != iteration || closed.getAsBoolean()) {
                return;
            }
            if (spins < 128) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(20_000);
            }
        }
    }
}
