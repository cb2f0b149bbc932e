package org.aiolos.core.coroutine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;
import org.aiolos.api.AioContext;

/**
 * A fiber on a virtual thread, for JVMs without access to continuations. Exactly one side
 * runs at a time: the enterer hands the turn to the virtual thread and waits until it is
 * handed back, which happens when the body yields or ends. The coroutine therefore
 * behaves as if it ran on the enterer's thread, and on each resume it adopts that
 * thread's coroutine state and current AioContext.
 *
 * <p>Memory ordering: {@link #turn} is the only synchronization. Everything either side
 * wrote before its volatile store of {@code turn} is visible to the other side after its
 * volatile load sees the new value.
 */
final class VirtualThreadFiber extends Fiber {
    private static final int CALLER = 0;
    private static final int COROUTINE = 1;
    private static final int EXIT = 2;
    /** Spins before parking: a hand-off on an idle core usually completes within it. */
    private static final int SPINS = 1000;

    private static final VarHandle TURN;

    static {
        try {
            TURN = MethodHandles.lookup().findVarHandle(VirtualThreadFiber.class, "turn", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final VirtualThreadBackend backend;
    @SuppressWarnings("unused") // through TURN
    private volatile int turn = CALLER;
    /** The virtual thread; created on the first resume. Enterer side only. */
    private Thread thread;
    /** Who waits for the turn to come back; written before the turn is handed over. */
    private Thread waiter;
    private ThreadState resumerState;
    private AioContext resumerContext;

    VirtualThreadFiber(VirtualThreadBackend backend) {
        this.backend = backend;
    }

    @Override
    void resume(ThreadState resumer, AioContext context) {
        waiter = Thread.currentThread();
        resumerState = resumer;
        resumerContext = context;
        Thread t = thread;
        if (t == null) {
            t = backend.newThread(this::trampoline);
            thread = t;
            TURN.setVolatile(this, COROUTINE);
            t.start();
        } else {
            TURN.setVolatile(this, COROUTINE);
            LockSupport.unpark(t);
        }
        awaitTurn(CALLER);
    }

    @Override
    void suspend() {
        handBack();
        awaitTurn(COROUTINE);
        adoptResumer();
    }

    @Override
    void destroy() {
        TURN.setVolatile(this, EXIT);
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** The virtual thread's body: one coroutine body per reuse, until destroyed. */
    private void trampoline() {
        try {
            for (;;) {
                adoptResumer();
                runBoundBody();
                dropResumer();
                handBack();
                if (awaitTurn(COROUTINE) == EXIT) {
                    return;
                }
            }
        } finally {
            backend.fiberExited();
        }
    }

    private void handBack() {
        Thread w = waiter; // read before the store: the enterer may reuse the field at once
        TURN.setVolatile(this, CALLER);
        LockSupport.unpark(w);
    }

    /**
     * Waits until the turn is {@code wanted} (or EXIT, for the virtual thread) and returns
     * it. The wait cannot be abandoned, so an interrupt is remembered and restored.
     */
    private int awaitTurn(int wanted) {
        int t;
        for (int i = 0; i < SPINS; i++) {
            t = (int) TURN.getVolatile(this);
            if (t == wanted || t == EXIT) {
                return t;
            }
            Thread.onSpinWait();
        }
        boolean interrupted = false;
        while ((t = (int) TURN.getVolatile(this)) != wanted && t != EXIT) {
            LockSupport.park(this);
            if (Thread.interrupted()) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return t;
    }

    /** Makes this virtual thread look like the enterer's thread to coroutine code. */
    private void adoptResumer() {
        ThreadState.adopt(resumerState);
        AioContext want = resumerContext;
        if (AioContext.current() != want) {
            AioContext.setCurrent(null);
            if (want != null) {
                AioContext.setCurrent(want);
            }
        }
    }

    /** A pooled fiber keeps no thread state or context alive. */
    private void dropResumer() {
        ThreadState.adopt(null);
        if (AioContext.current() != null) {
            AioContext.setCurrent(null);
        }
        resumerState = null;
        resumerContext = null;
    }
}
