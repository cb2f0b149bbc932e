package org.aiolos.core.coroutine;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.aiolos.api.AioContext;
import org.aiolos.api.ClockType;
import org.aiolos.api.coroutine.CoMutex;
import org.aiolos.api.coroutine.CoQueue;
import org.aiolos.api.coroutine.CoRwLock;
import org.aiolos.api.coroutine.CoSleep;
import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.CoroutineRuntime;
import org.aiolos.api.coroutine.Coroutines;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * The coroutine runtime (QEMU {@code util/qemu-coroutine.c} and the coroutine parts of
 * {@code util/async.c}): enter with its depth-first wake-up order, yield, termination into
 * the fiber pool, and the context operations.
 *
 * <p>A service: in OSGi a Declarative Services component registered as
 * {@link CoroutineRuntime}, which bundles bind by reference; activating it installs it in
 * the {@link Coroutines} facade (deactivating withdraws it). On the class and module path
 * {@link java.util.ServiceLoader} finds it ({@link #provider()}). Every instance is the
 * same runtime: its state (the backend, the coroutine numbering) is per JVM.
 */
@Component(service = CoroutineRuntime.class, immediate = true)
public final class CoroutineEngine implements CoroutineRuntime {
    private static final CoroutineEngine DEFAULT = new CoroutineEngine();
    /** Chosen on first use, once per JVM. */
    private static volatile Backend backend;
    private static final AtomicLong IDS = new AtomicLong();

    /** For Declarative Services and {@link java.util.ServiceLoader} on the class path. */
    public CoroutineEngine() {
    }

    /** The service-provider method (module path). */
    public static CoroutineRuntime provider() {
        return DEFAULT;
    }

    @Activate
    void activate() {
        Coroutines.install(this);
    }

    @Deactivate
    void deactivate() {
        Coroutines.uninstall(this);
    }

    static Backend currentBackend() {
        Backend b = backend;
        if (b == null) {
            synchronized (CoroutineEngine.class) {
                b = backend;
                if (b == null) {
                    b = BackendSelector.select();
                    backend = b;
                }
            }
        }
        return b;
    }

    /** Switches the backend of coroutines created from now on; tests run one suite on both. */
    static void useBackend(String name) {
        backend = BackendSelector.backendNamed(name);
    }

    // =====================================================================================
    // create / enter / yield / terminate (util/qemu-coroutine.c)

    @Override
    public String backend() {
        return currentBackend().name();
    }

    @Override
    public Coroutine create(String name, Runnable body) {
        Objects.requireNonNull(body, "body");
        String n = name != null ? name : "co-" + IDS.incrementAndGet();
        return new CoroutineImpl(this, currentBackend(), n, body);
    }

    @Override
    public Coroutine self() {
        return ThreadState.current().running;
    }

    @Override
    public boolean inCoroutine() {
        return ThreadState.current().running != null;
    }

    /**
     * QEMU {@code qemu_aio_coroutine_enter}: runs {@code first} now, then, depth first,
     * every coroutine woken meanwhile. A coroutine that cannot be entered is skipped (its
     * error is thrown at the end) so that the others still run; QEMU aborts instead.
     */
    void enterNow(AioContext ctx, CoroutineImpl first) {
        String why = first.whyNotEnterable();
        if (why != null) {
            throw new IllegalStateException(why);
        }
        ThreadState ts = ThreadState.current();
        AioContext here = AioContext.current();
        CoroutineImpl from = ts.running;
        Object caller = from != null ? from : ts;
        Throwable failure = null;
        CoroutineImpl pending = first;
        first.wakeNext = null;
        boolean checked = true; // the first was checked above; what the queues add is checked here
        while (pending != null) {
            CoroutineImpl to = pending;
            pending = to.wakeNext;
            to.wakeNext = null;
            if (!checked) {
                to.queuedBehind = null;
                String w = to.whyNotEnterable();
                if (w != null) {
                    failure = chain(failure, new IllegalStateException(w));
                    continue;
                }
            }
            checked = false;
            to.caller = caller;
            to.setContext(ctx); // release store: publishes the above to wakers reading ctx
            Fiber f = to.fiber;
            if (f == null) {
                f = to.backend.pool.acquire();
                f.co = to;
                to.fiber = f;
            }
            ts.running = to;
            try {
                f.resume(ts, here);
            } finally {
                ts.running = from;
            }
            // Whatever it woke runs next, before what was pending already: depth first.
            CoroutineImpl woken = to.wakeHead;
            if (woken != null) {
                to.wakeTail.wakeNext = pending;
                pending = woken;
                to.wakeHead = null;
                to.wakeTail = null;
            }
            if (to.finished) {
                failure = chain(failure, retire(to));
            }
        }
        if (failure != null) {
            rethrow(failure);
        }
    }

    /** A finished coroutine gives its fiber back; returns what its end should report. */
    private static Throwable retire(CoroutineImpl co) {
        Throwable thrown = co.failure;
        co.failure = null;
        co.caller = null;
        Fiber f = co.fiber;
        co.fiber = null;
        f.co = null;
        co.backend.pool.release(f);
        if (co.locksHeld != 0) {
            // QEMU asserts locks_held == 0 at termination.
            return new IllegalStateException(co + " finished while holding " + co.locksHeld
                    + " CoMutex/CoRwLock lock(s); they stay locked", thrown);
        }
        return thrown;
    }

    @Override
    public void yieldNow() {
        CoroutineImpl self = ThreadState.current().running;
        if (self == null) {
            throw new IllegalStateException("yieldNow() called outside a coroutine: there is nobody to yield to"
                    + " (QEMU: \"Co-routine is yielding to no one\")");
        }
        Object caller = self.caller;
        self.caller = null;
        try {
            self.fiber.suspend();
        } catch (RuntimeException | Error e) {
            self.caller = caller; // it did not yield: it is still running
            throw e;
        }
    }

    /** The running coroutine, or an error naming {@code op} outside one. */
    static CoroutineImpl requireSelf(String op) {
        CoroutineImpl self = ThreadState.current().running;
        if (self == null) {
            throw new IllegalStateException(op + " must be called from a coroutine");
        }
        return self;
    }

    static CoroutineImpl impl(Coroutine co) {
        Objects.requireNonNull(co, "co");
        if (co instanceof CoroutineImpl c) {
            return c;
        }
        throw new IllegalArgumentException(co + " was not created by Aiolos' coroutine runtime");
    }

    // =====================================================================================
    // contexts (aio_co_schedule, aio_co_enter, aio_co_reschedule_self in util/async.c)

    @Override
    public void schedule(AioContext ctx, Coroutine co) {
        scheduler(ctx).schedule(impl(co), CoScheduler.AIO_CO_SCHEDULE);
    }

    private static CoScheduler scheduler(AioContext ctx) {
        Objects.requireNonNull(ctx, "ctx");
        if (ctx instanceof CoroutineHost h) {
            return h.coroutineScheduler();
        }
        throw new IllegalArgumentException(ctx + " is not an Aiolos core context; it cannot run coroutines");
    }

    /** QEMU {@code aio_co_enter}. */
    @Override
    public void enter(AioContext ctx, Coroutine co) {
        CoroutineImpl c = impl(co);
        AioContext here = AioContext.current();
        if (ctx != here) {
            if (ctx == null) {
                throw new IllegalStateException("cannot run " + c + " from " + here
                        + ": it has no context (it never ran in one)");
            }
            scheduler(ctx).schedule(c, CoScheduler.AIO_CO_SCHEDULE);
            return;
        }
        CoroutineImpl self = ThreadState.current().running;
        if (self != null) {
            queueBehind(self, c);
        } else {
            enterNow(ctx, c);
        }
    }

    /** Appends {@code co} to {@code self}'s wake-up queue: it runs when self yields or ends. */
    private static void queueBehind(CoroutineImpl self, CoroutineImpl co) {
        if (self == co) {
            throw new IllegalStateException(co + " cannot wake itself: it is running");
        }
        if (co.queuedBehind != null) {
            throw new IllegalStateException("cannot wake " + co + ": it is already queued to run when "
                    + co.queuedBehind + " yields");
        }
        co.queuedBehind = self;
        co.wakeNext = null;
        if (self.wakeTail == null) {
            self.wakeHead = co;
        } else {
            self.wakeTail.wakeNext = co;
        }
        self.wakeTail = co;
    }

    /** QEMU {@code aio_co_wake}: co first, then its ctx (the acquire pairing with enter). */
    @Override
    public void wake(Coroutine co) {
        CoroutineImpl c = impl(co);
        enter(c.context(), c);
    }

    @Override
    public void ensureCanYield() {
        requireSelf("ensureCanYield").fiber.ensureCanSuspend();
    }

    /** QEMU {@code aio_co_reschedule_self}. */
    @Override
    public void rescheduleSelf(AioContext ctx) {
        Objects.requireNonNull(ctx, "ctx");
        CoroutineImpl self = requireSelf("rescheduleSelf");
        AioContext old = AioContext.current();
        if (old == ctx) {
            return;
        }
        if (old == null) {
            throw new IllegalStateException("rescheduleSelf: " + self + " runs in a thread without an AioContext;"
                    + " schedule it with Coroutines.schedule instead");
        }
        CoScheduler target = scheduler(ctx);
        self.fiber.ensureCanSuspend();
        // Scheduling from the old context, after we yielded: scheduling right now would let
        // the other thread enter us before we have left this one.
        old.scheduleOneshot("aio_co_reschedule_self", () -> target.schedule(self, CoScheduler.AIO_CO_SCHEDULE));
        yieldNow();
    }

    /** Inside a continuation coroutine, the resumer's context (see {@link ContinuationFiber}). */
    @Override
    public AioContext currentContext(AioContext threadContext) {
        if (ContinuationFiber.inUse) {
            ContinuationFiber f = ContinuationFiber.running();
            if (f != null) {
                return f.resumerContext;
            }
        }
        return threadContext;
    }

    // =====================================================================================
    // sleep and locks (util/qemu-coroutine-sleep.c, util/qemu-coroutine-lock.c)

    @Override
    public void sleepNs(ClockType clock, long ns) {
        new CoSleepImpl(this).sleepNs(clock, ns);
    }

    @Override
    public CoSleep newSleep() {
        return new CoSleepImpl(this);
    }

    @Override
    public CoMutex newMutex() {
        return new CoMutexImpl(this);
    }

    @Override
    public CoQueue newQueue() {
        return new CoQueueImpl(this);
    }

    @Override
    public CoRwLock newRwLock() {
        return new CoRwLockImpl(this);
    }

    // =====================================================================================
    // errors

    static Throwable chain(Throwable first, Throwable next) {
        if (first == null) {
            return next;
        }
        if (next != null && next != first) {
            first.addSuppressed(next);
        }
        return first;
    }

    static void rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("a coroutine body threw", t);
    }
}
