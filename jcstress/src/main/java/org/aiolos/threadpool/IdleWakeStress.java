package org.aiolos.threadpool;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * A submission waking an idle worker while that worker's idle timeout runs out
 * ({@code thread_pool_submit_aio} signalling {@code request_cond} against the timed wait in
 * {@code worker_thread}, QEMU's {@code util/thread-pool.c}). The worker waits on
 * {@link IdleWorkers} as {@code WorkerPool.serveLocked} does, with a timeout that has
 * already run out; the submitter pops under the pool lock and unparks after it, as
 * {@code WorkerPool.submit} does. Whatever the interleaving, the submitter popped the worker
 * exactly when the worker reports being woken (a pop the worker missed would strand the
 * request it was popped for; a wake-up reported without a pop would take a request meant
 * for another), and the counts are back to zero.
 *
 * <p>r1: 1 when the worker's wait returned woken. r2: 1 when the submitter popped it. r3,
 * from the arbiter: the idle and waking workers left (0).
 */
@JCStressTest
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "popped while waiting: woken")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "the submitter looked before the push or after the timeout")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a pop and the worker disagree, or a count is left over")
@State
public class IdleWakeStress {
    private final ReentrantLock lock = new ReentrantLock();
    private final IdleWorkers idle = new IdleWorkers();

    @Actor
    public void worker(III_Result r) {
        IdleWorkers.Entry me = new IdleWorkers.Entry(Thread.currentThread());
        lock.lock();
        try {
            // A timeout of 0: the worker pushes, unlocks, finds its time up and takes the lock
            // again, so every pop lands before the push, inside that window or after the
            // removal, without a park that would make each sample last a timer tick (the
            // parked path is WorkerPoolTest's burst test).
            r.r1 = idle.await(me, lock, 0L) ? 1 : 0;
        } finally {
            lock.unlock();
        }
    }

    @Actor
    public void submitter(III_Result r) {
        IdleWorkers.Entry w;
        lock.lock();
        try {
            w = idle.pop();
        } finally {
            lock.unlock();
        }
        if (w != null) {
            LockSupport.unpark(w.thread);
        }
        r.r2 = w != null ? 1 : 0;
    }

    @Arbiter
    public void counts(III_Result r) {
        lock.lock();
        try {
            r.r3 = idle.idleOrWaking();
        } finally {
            lock.unlock();
        }
    }
}
