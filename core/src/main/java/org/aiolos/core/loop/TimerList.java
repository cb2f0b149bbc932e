package org.aiolos.core.loop;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.aiolos.api.ClockType;
import org.aiolos.core.clock.ClockGroup;

/**
 * The timers of one context on one clock (QEMU {@code QEMUTimerList}), in a binary heap
 * ordered by (expiry, arming sequence): O(log n) arm and cancel with a million timers
 * pending, and the same firing order as QEMU's sorted list, where equal deadlines fire in
 * arming order.
 */
final class TimerList implements ClockGroup.TimerListHandle {
    final ClockType clockType;
    private final ClockGroup clocks;
    private final Runnable notifyCallback;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition runDone = lock.newCondition();
    private TimerImpl[] heap = new TimerImpl[16];
    private int size;
    private long nextSequence;
    private boolean running;
    /** Set under the lock when the context closes: arming then fails instead of leaking. */
    private String closedContext;

    TimerList(ClockType clockType, ClockGroup clocks, Runnable notifyCallback) {
        this.clockType = clockType;
        this.clocks = clocks;
        this.notifyCallback = notifyCallback;
    }

    void mod(TimerImpl timer, long expireNs, boolean anticipate) {
        long when = Math.max(expireNs, 0);
        boolean becameHead;
        lock.lock();
        try {
            if (closedContext != null) {
                throw new IllegalStateException("arming " + timer.describe() + ": AioContext '" + closedContext
                        + "' is closed");
            }
            if (anticipate && timer.heapIndex >= 0 && timer.expireTime <= when) {
                return;
            }
            if (timer.heapIndex >= 0) {
                removeAt(timer.heapIndex);
            }
            timer.expireTime = when;
            timer.sequence = nextSequence++;
            insert(timer);
            becameHead = heap[0] == timer;
        } finally {
            lock.unlock();
        }
        if (becameHead) {
            // A blocked poll must learn about the earlier deadline.
            notifyCallback.run();
        }
    }

    /**
     * The context's close holds every list's lock across its leak check and
     * {@link #markClosedLocked}, so that no timer can be armed between "none is pending"
     * and "arming now throws" (it would be lost with the context). Lists are always
     * locked in the context's list order; {@link #mod} holds only its own.
     */
    void lockForClose() {
        lock.lock();
    }

    void unlockForClose() {
        lock.unlock();
    }

    /** Under {@link #lockForClose}: after this, {@link #mod} throws. */
    void markClosedLocked(String contextName) {
        closedContext = contextName;
    }

    void cancel(TimerImpl timer) {
        lock.lock();
        try {
            if (timer.heapIndex >= 0) {
                removeAt(timer.heapIndex);
            }
            timer.expireTime = -1;
        } finally {
            lock.unlock();
        }
    }

    long expireTimeOf(TimerImpl timer) {
        lock.lock();
        try {
            return timer.expireTime;
        } finally {
            lock.unlock();
        }
    }

    /** Racy emptiness check (QEMU {@code timerlist_has_timers}). */
    boolean hasTimers() {
        return size != 0;
    }

    /** ns until the first timer is due: -1 if none or the clock is disabled, else ≥ 0. */
    long deadlineNs() {
        if (size == 0 || !clocks.isEnabled(clockType)) {
            return -1;
        }
        long expire;
        lock.lock();
        try {
            if (size == 0) {
                return -1;
            }
            expire = heap[0].expireTime;
        } finally {
            lock.unlock();
        }
        return Math.max(0, expire - clocks.nowNs(clockType));
    }

    /**
     * Runs the timers due at the time sampled once at the start (QEMU
     * {@code timerlist_run_timers}); callbacks run without the lock and may arm or cancel
     * any timer. A timer re-armed to a time at or before the sample runs again in this pass.
     */
    boolean run(CallbackRunner runner) {
        if (size == 0) {
            return false;
        }
        boolean progress = false;
        lock.lock();
        try {
            if (!clocks.isEnabled(clockType)) {
                return false;
            }
            running = true;
            long now = clocks.nowNs(clockType);
            while (size > 0 && heap[0].expireTime <= now) {
                TimerImpl timer = heap[0];
                removeAt(0);
                timer.expireTime = -1;
                lock.unlock();
                try {
                    runner.run(timer.callback, timer);
                } finally {
                    lock.lock();
                }
                progress = true;
            }
        } finally {
            running = false;
            runDone.signalAll();
            lock.unlock();
        }
        return progress;
    }

    @Override
    public void awaitNotRunning() {
        lock.lock();
        try {
            while (running) {
                runDone.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void clockChanged() {
        notifyCallback.run();
    }

    /** The pending timers, for the message of a refused close. */
    List<TimerImpl> pending() {
        lock.lock();
        try {
            List<TimerImpl> out = new ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                out.add(heap[i]);
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    int size() {
        return size;
    }

    // ---- heap, lock held

    private static boolean before(TimerImpl a, TimerImpl b) {
        return a.expireTime < b.expireTime || (a.expireTime == b.expireTime && a.sequence < b.sequence);
    }

    private void insert(TimerImpl timer) {
        if (size == heap.length) {
            heap = java.util.Arrays.copyOf(heap, size * 2);
        }
        heap[size] = timer;
        timer.heapIndex = size;
        size++;
        siftUp(timer.heapIndex);
    }

    private void removeAt(int index) {
        TimerImpl removed = heap[index];
        size--;
        TimerImpl last = heap[size];
        heap[size] = null;
        removed.heapIndex = -1;
        if (index == size) {
            return;
        }
        heap[index] = last;
        last.heapIndex = index;
        siftDown(index);
        if (heap[index] == last) {
            siftUp(index);
        }
    }

    private void siftUp(int index) {
        TimerImpl timer = heap[index];
        while (index > 0) {
            int parent = (index - 1) >>> 1;
            TimerImpl p = heap[parent];
            if (!before(timer, p)) {
                break;
            }
            heap[index] = p;
            p.heapIndex = index;
            index = parent;
        }
        heap[index] = timer;
        timer.heapIndex = index;
    }

    private void siftDown(int index) {
        TimerImpl timer = heap[index];
        int half = size >>> 1;
        while (index < half) {
            int child = 2 * index + 1;
            int right = child + 1;
            if (right < size && before(heap[right], heap[child])) {
                child = right;
            }
            if (!before(heap[child], timer)) {
                break;
            }
            heap[index] = heap[child];
            heap[index].heapIndex = index;
            index = child;
        }
        heap[index] = timer;
        timer.heapIndex = index;
    }
}
