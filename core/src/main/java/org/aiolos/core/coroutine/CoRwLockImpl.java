package org.aiolos.core.coroutine;

import java.util.ArrayDeque;
import org.aiolos.api.coroutine.CoRwLock;

/**
 * QEMU {@code CoRwlock} ({@code util/qemu-coroutine-lock.c}): {@code owners} (&gt;0 readers, -1
 * a writer, 0 free)
 * and a FIFO of tickets, both guarded by an internal {@link CoMutexImpl}. A release wakes
 * at most the head ticket; a woken reader passes the wake-up on to the next ticket, so a
 * run of queued readers wakes one after another.
 */
final class CoRwLockImpl implements CoRwLock {
    private record Ticket(boolean read, CoroutineImpl co) {
    }

    private final CoroutineEngine engine;
    private final CoMutexImpl mutex;
    /** Guarded by {@link #mutex}. */
    private int owners;
    /** Guarded by {@link #mutex}. */
    private final ArrayDeque<Ticket> tickets = new ArrayDeque<>();

    CoRwLockImpl(CoroutineEngine engine) {
        this.engine = engine;
        this.mutex = new CoMutexImpl(engine);
    }

    @Override
    public void readLock() {
        CoroutineImpl self = CoroutineEngine.requireSelf("CoRwLock.readLock");
        mutex.lock();
        // Fairness: once a ticket waits (a writer at its head), new readers queue too.
        if (owners == 0 || (owners > 0 && tickets.isEmpty())) {
            owners++;
            mutex.unlock();
        } else {
            waitForTicket(self, true);
            if (owners < 1) {
                throw new IllegalStateException("CoRwLock: " + self + " woke as a reader with owners=" + owners);
            }
            // Let the next ticket in line (another reader, typically) follow us in.
            mutex.lock();
            wakeOneAndUnlock();
        }
        self.locksHeld++;
    }

    @Override
    public void writeLock() {
        CoroutineImpl self = CoroutineEngine.requireSelf("CoRwLock.writeLock");
        mutex.lock();
        if (owners == 0) {
            owners = -1;
            mutex.unlock();
        } else {
            waitForTicket(self, false);
            checkWriter(self);
        }
        self.locksHeld++;
    }

    @Override
    public void upgrade() {
        CoroutineImpl self = CoroutineEngine.requireSelf("CoRwLock.upgrade");
        mutex.lock();
        if (owners <= 0) {
            int o = owners;
            mutex.unlock();
            throw new IllegalStateException("CoRwLock.upgrade by " + self + ": not read-locked (owners=" + o + ")");
        }
        if (owners == 1 && tickets.isEmpty()) {
            owners = -1;
            mutex.unlock();
        } else {
            owners--;
            self.fiber.ensureCanSuspend();
            tickets.addLast(new Ticket(false, self));
            wakeOneAndUnlock();
            engine.yieldNow();
            checkWriter(self);
        }
    }

    @Override
    public void downgrade() {
        CoroutineImpl self = CoroutineEngine.requireSelf("CoRwLock.downgrade");
        mutex.lock();
        if (owners != -1) {
            int o = owners;
            mutex.unlock();
            throw new IllegalStateException("CoRwLock.downgrade by " + self + ": not write-locked (owners=" + o + ")");
        }
        owners = 1;
        wakeOneAndUnlock();
    }

    @Override
    public void unlock() {
        CoroutineImpl self = CoroutineEngine.requireSelf("CoRwLock.unlock");
        mutex.lock();
        if (owners == 0) {
            mutex.unlock();
            throw new IllegalStateException("CoRwLock.unlock by " + self + ": it is not locked");
        }
        self.locksHeld--;
        if (owners > 0) {
            owners--;
        } else {
            owners = 0;
        }
        wakeOneAndUnlock();
    }

    /** Queues a ticket, releases the mutex and yields until a release grants it. */
    private void waitForTicket(CoroutineImpl self, boolean read) {
        try {
            self.fiber.ensureCanSuspend();
        } catch (RuntimeException e) {
            mutex.unlock();
            throw e;
        }
        tickets.addLast(new Ticket(read, self));
        mutex.unlock();
        engine.yieldNow();
    }

    private void checkWriter(CoroutineImpl self) {
        if (owners != -1) {
            throw new IllegalStateException("CoRwLock: " + self + " woke as the writer with owners=" + owners);
        }
    }

    /**
     * QEMU's {@code maybe_wake_one}; called with the mutex held, returns with it released.
     * Grants the head ticket if it fits, then wakes its coroutine.
     */
    private void wakeOneAndUnlock() {
        Ticket t = tickets.peekFirst();
        CoroutineImpl wake = null;
        if (t != null) {
            if (t.read() && owners >= 0) {
                owners++;
                wake = t.co();
            } else if (!t.read() && owners == 0) {
                owners = -1;
                wake = t.co();
            }
            if (wake != null) {
                tickets.pollFirst();
            }
        }
        mutex.unlock();
        if (wake != null) {
            engine.wake(wake);
        }
    }

    @Override
    public String toString() {
        return "CoRwLock owners=" + owners + " waiting=" + tickets.size();
    }
}
