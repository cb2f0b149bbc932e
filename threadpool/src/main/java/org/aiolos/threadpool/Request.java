package org.aiolos.threadpool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import org.aiolos.api.AioContext;
import org.aiolos.api.threadpool.PoolRequest;
import org.aiolos.api.threadpool.ThreadPool.Completion;

/**
 * One submitted piece of work (QEMU {@code ThreadPoolElementAio}).
 *
 * <p>State goes QUEUED → ACTIVE → DONE, or QUEUED → DONE when cancelled. Leaving QUEUED
 * happens under the pool lock (a worker taking it, or {@link #cancel()}), so exactly one
 * of them wins. Only the worker moves ACTIVE → DONE. The outcome ({@code result},
 * {@code failure}) is written before DONE is stored with release; the completion side
 * reads DONE with acquire before it reads the outcome.
 */
final class Request<T> implements PoolRequest {
    static final int QUEUED = 0;
    static final int ACTIVE = 1;
    static final int DONE = 2;

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Request.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final WorkerPool pool;
    /** Submission order; among finished requests the highest completes first. */
    final long seq;
    private Callable<T> work;
    private Completion<? super T> completion;
    @SuppressWarnings("unused")
    private volatile int state;
    private T result;
    private Throwable failure;
    /** Set in the home thread once the completion has returned. */
    private volatile boolean delivered;

    /** Links in the pool's queue (under the pool lock). */
    Request<?> queuePrev;
    Request<?> queueNext;
    /** Link in the finished stack (published by its CAS). */
    Request<?> doneNext;

    Request(WorkerPool pool, long seq, Callable<T> work, Completion<? super T> completion) {
        this.pool = pool;
        this.seq = seq;
        this.work = work;
        this.completion = completion;
    }

    /** Under the pool lock: a worker takes it. */
    void activate() {
        STATE.setRelease(this, ACTIVE);
    }

    /** On a worker, without the lock: runs the work and publishes the outcome. */
    void run() {
        Callable<T> w = work;
        work = null; // nothing keeps the job alive after it ran
        try {
            result = w.call();
        } catch (Throwable t) {
            failure = t;
        }
        // Release: result/failure happen-before any acquire read of DONE.
        STATE.setRelease(this, DONE);
    }

    /** Under the pool lock, still QUEUED: completes it as cancelled (QEMU -ECANCELED). */
    void cancelLocked(String why) {
        work = null;
        failure = new CancellationException(why);
        STATE.setRelease(this, DONE);
    }

    int state() {
        return (int) STATE.getAcquire(this);
    }

    /** Home thread, once: hands the outcome to the completion. */
    void deliver() {
        if (state() != DONE) {
            throw new IllegalStateException("request " + seq + " delivered before it finished");
        }
        Completion<? super T> c = completion;
        completion = null;
        T r = result;
        Throwable f = failure;
        result = null;
        failure = null;
        try {
            c.complete(r, f);
        } finally {
            delivered = true; // release: whoever sees it sees what the completion did
        }
    }

    @Override
    public boolean cancel() {
        return pool.cancel(this);
    }

    @Override
    public boolean isDone() {
        return delivered;
    }

    @Override
    public AioContext context() {
        return pool.context();
    }

    @Override
    public String toString() {
        return "thread-pool request " + seq + " (" + switch (state()) {
            case QUEUED -> "queued";
            case ACTIVE -> "running";
            default -> "done";
        } + ")";
    }
}
