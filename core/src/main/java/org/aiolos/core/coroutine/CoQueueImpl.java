package org.aiolos.core.coroutine;

import org.aiolos.api.coroutine.CoLockable;
import org.aiolos.api.coroutine.CoQueue;

/**
 * QEMU {@code CoQueue} ({@code util/qemu-coroutine-lock.c}): an intrusive singly linked FIFO of
 * waiting coroutines.
 * Not thread-safe by itself, as in QEMU: its users serialize access with their context or
 * the lock they pass.
 */
final class CoQueueImpl implements CoQueue {
    private final CoroutineEngine engine;
    private CoroutineImpl head;
    private CoroutineImpl tail;

    CoQueueImpl(CoroutineEngine engine) {
        this.engine = engine;
    }

    @Override
    public void wait(CoLockable lock) {
        await(lock, false);
    }

    @Override
    public void waitAtFront(CoLockable lock) {
        await(lock, true);
    }

    private void await(CoLockable lock, boolean front) {
        CoroutineImpl self = CoroutineEngine.requireSelf("CoQueue.wait");
        self.fiber.ensureCanSuspend(); // never leave a waiter that cannot be woken
        if (front) {
            addFirst(self);
        } else {
            addLast(self);
        }
        if (lock != null) {
            lock.unlock();
        }
        engine.yieldNow();
        // No wait morphing: whoever woke us does not hand us the lock.
        if (lock != null) {
            lock.lock();
        }
    }

    @Override
    public boolean next() {
        return enterNext(null);
    }

    @Override
    public boolean enterNext(CoLockable lock) {
        CoroutineImpl co = pollFirst();
        if (co == null) {
            return false;
        }
        if (lock != null) {
            lock.unlock();
        }
        try {
            engine.wake(co);
        } finally {
            if (lock != null) {
                lock.lock();
            }
        }
        return true;
    }

    @Override
    public void restartAll() {
        while (next()) {
            // each call wakes one
        }
    }

    @Override
    public void enterAll(CoLockable lock) {
        while (enterNext(lock)) {
            // each call wakes one
        }
    }

    @Override
    public boolean isEmpty() {
        return head == null;
    }

    private void addLast(CoroutineImpl co) {
        co.queueNext = null;
        if (tail == null) {
            head = co;
        } else {
            tail.queueNext = co;
        }
        tail = co;
    }

    private void addFirst(CoroutineImpl co) {
        co.queueNext = head;
        if (head == null) {
            tail = co;
        }
        head = co;
    }

    private CoroutineImpl pollFirst() {
        CoroutineImpl co = head;
        if (co != null) {
            head = co.queueNext;
            if (head == null) {
                tail = null;
            }
            co.queueNext = null;
        }
        return co;
    }
}
