package org.aiolos.threadpool;

import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The pool's idle workers, the most recently idled on top, and the hand-off that wakes one
 * (QEMU's {@code idle_threads} and {@code request_cond} in {@code util/thread-pool.c}).
 * Guarded by the pool lock, except the woken worker's own read of {@link Entry#woken}.
 *
 * <p>A worker {@linkplain #await waits} on its own entry; a submission {@linkplain #pop pops}
 * the top entry under the lock and unparks its thread after releasing it, so each
 * submission of a burst wakes a worker of its own at once. Popping and the waiter's
 * timeout are decided under the lock: a popped worker always returns {@code true} and
 * takes the request it was popped for (or passes the wake-up on if it leaves), a worker
 * that returns {@code false} was never popped (checked by {@code IdleWakeStress} in the
 * jcstress module).
 */
final class IdleWorkers {
    /** A worker's place on the stack; one per worker thread, reused for each wait. */
    static final class Entry {
        final Thread thread;
        Entry below;
        /** Set under the lock by {@link #pop}; the parked worker reads it without the lock. */
        volatile boolean woken;

        Entry(Thread thread) {
            this.thread = thread;
        }
    }

    private Entry top;
    private int idle;
    /** Popped and not yet running: QEMU counts them idle until they run. */
    private int waking;

    /** Idle workers, popped ones that have not run yet included ({@code idle_threads}). */
    int idleOrWaking() {
        return idle + waking;
    }

    /** Lock held: takes the most recently idled worker, marked woken; the caller unparks it (after unlocking). */
    Entry pop() {
        Entry w = top;
        if (w != null) {
            top = w.below;
            w.below = null;
            idle--;
            waking++;
            w.woken = true;
        }
        return w;
    }

    /** Lock held: pops a worker and unparks it at once (rare paths: bounds changes and close). */
    boolean wakeOne() {
        Entry w = pop();
        if (w != null) {
            LockSupport.unpark(w.thread);
        }
        return w != null;
    }

    /**
     * Called with {@code lock} held by the worker that owns {@code me}: pushes it, releases
     * the lock and parks until popped or until {@code nanos} pass, then takes the lock again.
     *
     * @return true when popped, false on the timeout (then no longer on the stack)
     */
    boolean await(Entry me, ReentrantLock lock, long nanos) {
        me.woken = false;
        me.below = top;
        top = me;
        idle++;
        long deadline = System.nanoTime() + nanos;
        lock.unlock();
        try {
            // woken is written under the lock before the unpark and read here without it
            // (volatile), so a pop is never missed; a stale permit only loops once more.
            while (!me.woken) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                LockSupport.parkNanos(this, left);
                Thread.interrupted(); // workers ignore interrupts: one would end every park at once
            }
        } finally {
            lock.lock();
        }
        // Under the lock again, woken is final for this wait: a pop either came before this
        // point (woken) or finds the entry gone (removed below).
        if (me.woken) {
            waking--;
            return true;
        }
        remove(me);
        return false;
    }

    private void remove(Entry me) {
        Entry prev = null;
        for (Entry w = top; w != null; prev = w, w = w.below) {
            if (w == me) {
                if (prev == null) {
                    top = w.below;
                } else {
                    prev.below = w.below;
                }
                w.below = null;
                idle--;
                return;
            }
        }
        throw new IllegalStateException("idle worker not on the idle stack");
    }
}
