package org.aiolos.core.coroutine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import org.aiolos.api.AioContext;
import org.aiolos.api.coroutine.CoMutex;

/**
 * QEMU {@code CoMutex} ({@code util/qemu-coroutine-lock.c}): a count of lockers, a lock-free
 * LIFO that waiters push
 * themselves onto, a FIFO the current waker pops from (refilled by reversing the LIFO, so
 * waiters are served roughly in arrival order), and the hand-off protocol for the race
 * where an unlocker finds no waiter record because a locker has counted itself but not
 * pushed its record yet.
 *
 * <p><b>{@code has_waiters}.</b> QEMU's helper returns "to_pop empty OR from_push empty",
 * which reads as the negation of its name. We implement the evident intent, "some waiter
 * record exists" ({@link #hasWaiters()}). With it, an unlocker that publishes a hand-off
 * and sees no record leaves at once, and the late locker takes the hand-off; QEMU's
 * predicate instead makes that unlocker take its hand-off back and retry until the record
 * appears. Both are correct; ours does not spin. The multithread stress test drives this
 * path, and {@link #handoffs} counts how often a locker took a hand-off.
 *
 * <p>Memory ordering: {@code locked}, {@code fromPush} and {@code handoff} are updated
 * with volatile RMWs (full fences, covering QEMU's {@code smp_mb__after_rmw} and
 * {@code qatomic_set_mb}). {@code toPop} and {@code sequence} are touched by one
 * popper at a time (the unlocker, or the locker that won the hand-off CAS); volatile so
 * that {@link #hasWaiters()} from the other side reads a real value.
 */
final class CoMutexImpl implements CoMutex {
    /** Lockers spin this many times while exactly one other holds the lock (QEMU's 1000). */
    private static final int SPIN_LIMIT = 1000;

    private static final VarHandle LOCKED;
    private static final VarHandle FROM_PUSH;
    private static final VarHandle HANDOFF;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            LOCKED = l.findVarHandle(CoMutexImpl.class, "locked", int.class);
            FROM_PUSH = l.findVarHandle(CoMutexImpl.class, "fromPush", CoroutineImpl.class);
            HANDOFF = l.findVarHandle(CoMutexImpl.class, "handoff", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final CoroutineEngine engine;
    /** Lockers: the holder plus waiting and arriving ones. */
    @SuppressWarnings("unused") // through LOCKED
    private volatile int locked;
    /** The holder's context, read by spinning lockers. */
    private volatile AioContext ctx;
    @SuppressWarnings("unused") // through FROM_PUSH
    private volatile CoroutineImpl fromPush;
    private volatile CoroutineImpl toPop;
    @SuppressWarnings("unused") // through HANDOFF
    private volatile int handoff;
    private volatile int sequence;
    /** Written by the holder only. */
    private CoroutineImpl holder;
    /** Lockers that had to queue, and hand-offs taken by late lockers: diagnostics for tests. */
    final AtomicLong waits = new AtomicLong();
    final AtomicLong handoffs = new AtomicLong();

    CoMutexImpl(CoroutineEngine engine) {
        this.engine = engine;
    }

    @Override
    public void lock() {
        CoroutineImpl self = CoroutineEngine.requireSelf("CoMutex.lock");
        AioContext here = AioContext.current();
        int waiters;
        retry:
        for (;;) {
            waiters = (int) LOCKED.compareAndExchange(this, 0, 1);
            if (waiters != 0) {
                int i = 0;
                while (waiters == 1 && ++i < SPIN_LIMIT) {
                    // The holder runs in our context: it cannot progress while we spin.
                    if (ctx == here) {
                        break;
                    }
                    if ((int) LOCKED.getVolatile(this) == 0) {
                        continue retry;
                    }
                    Thread.onSpinWait();
                    waiters = (int) LOCKED.getVolatile(this);
                }
                // Once counted we cannot back out, so a stack that cannot yield fails here,
                // with the mutex untouched.
                self.fiber.ensureCanSuspend();
                waiters = (int) LOCKED.getAndAdd(this, 1);
            }
            break;
        }
        if (waiters == 0) {
            ctx = here;
        } else {
            lockSlowPath(self, here);
        }
        holder = self;
        self.locksHeld++;
    }

    private void lockSlowPath(CoroutineImpl self, AioContext here) {
        waits.incrementAndGet();
        push(self);
        int old = (int) HANDOFF.getVolatile(this);
        if (old != 0 && hasWaiters() && HANDOFF.compareAndSet(this, old, 0)) {
            // An unlocker left the lock to us instead of finding our record.
            handoffs.incrementAndGet();
            CoroutineImpl to = popWaiter();
            if (to == self) {
                ctx = here;
                return;
            }
            wakeWaiter(to);
        }
        engine.yieldNow();
        // Woken by the previous holder or a hand-off: the lock is ours, ctx already set.
    }

    @Override
    public void unlock() {
        CoroutineImpl self = CoroutineEngine.requireSelf("CoMutex.unlock");
        if ((int) LOCKED.getVolatile(this) == 0) {
            throw new IllegalStateException("CoMutex.unlock by " + self + ": the mutex is not locked");
        }
        if (holder != self) {
            throw new IllegalStateException("CoMutex.unlock by " + self + ": the mutex is held by " + holder);
        }
        ctx = null;
        holder = null;
        self.locksHeld--;
        if ((int) LOCKED.getAndAdd(this, -1) == 1) {
            return; // nobody else counted: no waiters
        }
        for (;;) {
            CoroutineImpl to = popWaiter();
            if (to != null) {
                wakeWaiter(to);
                return;
            }
            // A locker has counted itself but not pushed its record yet: publish a hand-off
            // (never 0) before looking for records again.
            int seq = sequence + 1;
            if (seq == 0) {
                seq = 1;
            }
            sequence = seq;
            HANDOFF.setVolatile(this, seq);
            if (!hasWaiters()) {
                return; // the late locker will find the hand-off
            }
            if (!HANDOFF.compareAndSet(this, seq, 0)) {
                return; // a locker took it: the lock has passed
            }
        }
    }

    /** Evident intent of QEMU's {@code has_waiters} (see the class comment). */
    private boolean hasWaiters() {
        return toPop != null || FROM_PUSH.getVolatile(this) != null;
    }

    private void push(CoroutineImpl self) {
        CoroutineImpl h;
        do {
            h = (CoroutineImpl) FROM_PUSH.getVolatile(this);
            self.mutexNext = h;
        } while (!FROM_PUSH.compareAndSet(this, h, self));
    }

    private CoroutineImpl popWaiter() {
        CoroutineImpl head = toPop;
        if (head == null) {
            CoroutineImpl lifo = (CoroutineImpl) FROM_PUSH.getAndSet(this, (CoroutineImpl) null);
            while (lifo != null) {
                CoroutineImpl next = lifo.mutexNext;
                lifo.mutexNext = head;
                head = lifo;
                lifo = next;
            }
        }
        if (head != null) {
            toPop = head.mutexNext;
            head.mutexNext = null;
        }
        return head;
    }

    /** Passes the lock to {@code to}: it owns it from here and runs where it last ran. */
    private void wakeWaiter(CoroutineImpl to) {
        ctx = to.context();
        engine.wake(to);
    }

    @Override
    public void assertLocked() {
        CoroutineImpl self = ThreadState.current().running;
        if ((int) LOCKED.getVolatile(this) == 0 || holder != self || self == null) {
            throw new IllegalStateException("CoMutex is not held by the caller"
                    + (self == null ? " (not in a coroutine)" : " " + self) + "; holder: " + holder);
        }
    }

    @Override
    public boolean isLocked() {
        return (int) LOCKED.getVolatile(this) != 0;
    }

    @Override
    public String toString() {
        return "CoMutex" + (holder != null ? " held by " + holder : "") + " lockers=" + LOCKED.getVolatile(this);
    }
}
