package org.aiolos.core.coroutine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.aiolos.api.AioContext;
import org.aiolos.api.coroutine.Coroutine;

/**
 * A coroutine (QEMU {@code struct Coroutine} in {@code include/qemu/coroutine_int.h}). The
 * handle is never reused: a
 * finished coroutine gives its fiber back to the pool and stays finished.
 *
 * <p>Threads: a coroutine is touched by one thread at a time (whoever enters it, and the
 * coroutine itself, which runs on that thread's behalf), with hand-overs ordered by the
 * scheduling list, the wake-up queues or the fiber hand-off. The exceptions are
 * {@link #ctx}, read by wakers in other threads (a release store at enter, QEMU's write
 * barrier before the switch, paired with an acquire load in {@link #context()}), and
 * {@link #scheduled}, claimed by CAS from any thread.
 */
final class CoroutineImpl implements Coroutine {
    private static final VarHandle SCHEDULED;
    private static final VarHandle CTX;

    static {
        try {
            SCHEDULED = MethodHandles.lookup().findVarHandle(CoroutineImpl.class, "scheduled", String.class);
            CTX = MethodHandles.lookup().findVarHandle(CoroutineImpl.class, "ctx", AioContext.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    private final Runnable body;
    final Backend backend;
    final CoroutineEngine engine;

    /** Bound at the first enter (a coroutine that never runs holds none); null when finished. */
    Fiber fiber;
    /** Who entered it: a coroutine or a thread's {@link ThreadState}; null when not entered. */
    Object caller;
    @SuppressWarnings("unused") // through CTX
    private AioContext ctx;
    @SuppressWarnings("unused") // through SCHEDULED
    private volatile String scheduled;
    boolean finished;
    /** What the body threw; handed to the enterer. */
    Throwable failure;
    /** CoMutex and CoRwLock locks held (QEMU {@code locks_held}). */
    int locksHeld;

    /** Coroutines to run when this one yields or finishes (QEMU {@code co_queue_wakeup}). */
    CoroutineImpl wakeHead;
    CoroutineImpl wakeTail;
    /** Link in a wake-up queue or an enter loop's pending list. */
    CoroutineImpl wakeNext;
    /** The coroutine whose wake-up queue holds this one, or null. */
    CoroutineImpl queuedBehind;
    /** Link in a context's scheduled list. */
    CoroutineImpl schedNext;
    /** Link in a CoMutex's waiter lists. */
    CoroutineImpl mutexNext;
    /** Link in a CoQueue. */
    CoroutineImpl queueNext;

    CoroutineImpl(CoroutineEngine engine, Backend backend, String name, Runnable body) {
        this.engine = engine;
        this.backend = backend;
        this.name = name;
        this.body = body;
    }

    /** Runs the body to its end on the current fiber; anything it throws is kept for the enterer. */
    void runBody() {
        try {
            body.run();
        } catch (Throwable t) {
            failure = t;
        }
        finished = true;
    }

    /**
     * Why it cannot be entered now, or null if it can (QEMU's aborts in
     * {@code qemu_aio_coroutine_enter}).
     */
    String whyNotEnterable() {
        if (finished) {
            return "cannot enter " + this + ": it has finished (create a new coroutine)";
        }
        String by = scheduledBy();
        if (by != null) {
            return "cannot enter " + this + ": it was already scheduled in '" + by + "'"
                    + ("co_sleep_ns".equals(by) ? " (it is sleeping)" : "");
        }
        if (caller != null) {
            return "cannot enter " + this + ": it is already running (entered again before it yielded or finished, "
                    + "from this thread or another)";
        }
        if (queuedBehind != null) {
            return "cannot enter " + this + ": it is queued to run when " + queuedBehind + " yields";
        }
        return null;
    }

    void setContext(AioContext c) {
        CTX.setRelease(this, c);
    }

    /** Claims the scheduled marker; returns null on success, else who holds it. */
    String claimScheduled(String by) {
        return (String) SCHEDULED.compareAndExchange(this, (String) null, by);
    }

    /** Releases the marker if {@code by} holds it; returns whether it did. */
    boolean releaseScheduled(String by) {
        return SCHEDULED.compareAndSet(this, by, (String) null);
    }

    void clearScheduled() {
        SCHEDULED.setVolatile(this, (String) null);
    }

    // ---------------------------------------------------------------- Coroutine

    @Override
    public String name() {
        return name;
    }

    @Override
    public void enter() {
        engine.enterNow(AioContext.current(), this);
    }

    @Override
    public void enter(AioContext c) {
        engine.enterNow(c, this);
    }

    @Override
    public boolean enterIfInactive() {
        if (caller != null) {
            return false;
        }
        enter();
        return true;
    }

    @Override
    public void wake() {
        engine.wake(this);
    }

    @Override
    public boolean isEntered() {
        return caller != null;
    }

    @Override
    public boolean isFinished() {
        return finished;
    }

    @Override
    public AioContext context() {
        return (AioContext) CTX.getAcquire(this);
    }

    @Override
    public String scheduledBy() {
        return (String) SCHEDULED.getVolatile(this);
    }

    @Override
    public String toString() {
        return "coroutine '" + name + "'";
    }
}
