package org.aiolos.threadpool;

import java.util.concurrent.Callable;
import org.aiolos.api.AioContext;
import org.aiolos.api.threadpool.PoolRequest;
import org.aiolos.api.threadpool.ThreadPool;

/** Delegates to a pool; close opens the test's gates first, so blocked jobs can finish. */
final class GateReleasingPool implements ThreadPool {
    private final ThreadPool pool;
    private final Fixture fx;

    GateReleasingPool(ThreadPool pool, Fixture fx) {
        this.pool = pool;
        this.fx = fx;
    }

    @Override
    public AioContext context() {
        return pool.context();
    }

    @Override
    public <T> PoolRequest submit(Callable<T> work, Completion<? super T> completion) {
        return pool.submit(work, completion);
    }

    @Override
    public void updateParams(int min, int max) {
        pool.updateParams(min, max);
    }

    @Override
    public int threadCount() {
        return pool.threadCount();
    }

    @Override
    public int inFlight() {
        return pool.inFlight();
    }

    @Override
    public void close() {
        fx.releaseGates();
        pool.close();
    }
}
