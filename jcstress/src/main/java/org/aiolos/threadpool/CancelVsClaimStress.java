package org.aiolos.threadpool;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.CancellationException;
import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Thread-pool cancel racing a worker ({@code thread_pool_cancel} against
 * {@code worker_thread} in QEMU's {@code util/thread-pool.c}). Requests a and b are queued; a
 * worker
 * claims the head of the queue, runs it and pushes it on the finished stack, exactly as
 * {@code WorkerPool.serveLocked} does; the home thread cancels a, then b, each under the
 * pool lock as {@code WorkerPool.cancel} does. Whatever the interleaving, each request is
 * either cancelled (cancel returned true, delivered with a CancellationException and its
 * work never run) or run (cancel returned false, delivered with its result), and is
 * delivered exactly once.
 *
 * <p>r1: bit 1 / 2 when cancel(a) / cancel(b) returned true. r2, from the arbiter's
 * delivery: bit 1 / 2 when a / b was delivered with its result; bit 4 for any request lost,
 * delivered twice, delivered cancelled while its work ran, or delivered with neither.
 */
@JCStressTest
@Outcome(id = "2, 1", expect = ACCEPTABLE, desc = "the worker claimed a before the cancel; b cancelled")
@Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "a cancelled first, the worker then claimed b")
@Outcome(id = "3, 0", expect = ACCEPTABLE, desc = "both cancelled before the worker looked")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "both or neither won a request, or a delivery went wrong")
@State
public class CancelVsClaimStress {
    private final ReentrantLock lock = new ReentrantLock();
    private final RequestQueue queue = new RequestQueue();
    private final FinishedStack finished = new FinishedStack();
    private final Request<Integer> a;
    private final Request<Integer> b;
    private int ranA;
    private int ranB;
    private int deliveredA;
    private int deliveredB;
    private int outcome;

    public CancelVsClaimStress() {
        a = new Request<>(null, 1, () -> ++ranA + 40, (v, f) -> record(1, v, f, 41));
        b = new Request<>(null, 2, () -> ++ranB + 41, (v, f) -> record(2, v, f, 42));
        queue.add(a);
        queue.add(b);
    }

    private void record(int bit, Integer v, Throwable f, int expected) {
        if (bit == 1) {
            deliveredA++;
        } else {
            deliveredB++;
        }
        if (f == null && v != null && v == expected) {
            outcome |= bit;
        } else if (!(f instanceof CancellationException)) {
            outcome |= 4;
        }
    }

    @Actor
    public void worker() {
        Request<?> r;
        lock.lock();
        try {
            r = queue.claim();
        } finally {
            lock.unlock();
        }
        if (r != null) {
            r.run();
            finished.push(r);
        }
    }

    @Actor
    public void home(II_Result r) {
        int cancelled = 0;
        for (Request<?> req : new Request<?>[] {a, b}) {
            lock.lock();
            try {
                if (queue.cancelIfQueued(req, "cancelled by the test")) {
                    finished.push(req);
                    cancelled |= req == a ? 1 : 2;
                }
            } finally {
                lock.unlock();
            }
        }
        r.r1 = cancelled;
    }

    @Arbiter
    public void deliver(II_Result r) {
        for (Request<?> req = finished.takeAll(); req != null; ) {
            Request<?> next = req.doneNext;
            req.doneNext = null;
            req.deliver();
            req = next;
        }
        boolean consistent = deliveredA == 1 && deliveredB == 1
                && ranA == ((outcome & 1) != 0 ? 1 : 0) && ranB == ((outcome & 2) != 0 ? 1 : 0);
        r.r2 = consistent ? outcome : outcome | 4;
    }
}
