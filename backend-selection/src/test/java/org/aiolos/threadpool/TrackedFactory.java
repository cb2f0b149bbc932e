package org.aiolos.threadpool;

import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import org.aiolos.api.AioContext;
import org.aiolos.api.threadpool.PoolRequest;
import org.aiolos.api.threadpool.ThreadPool;
import org.aiolos.api.threadpool.ThreadPoolFactory;

/** A named worker-pool provider that counts the pools it opened, closed, and what they took. */
final class TrackedFactory implements ThreadPoolFactory {
    private final String name;
    private final WorkerPoolFactory inner = new WorkerPoolFactory();
    final AtomicInteger opened = new AtomicInteger();
    final AtomicInteger closed = new AtomicInteger();
    final AtomicInteger submitted = new AtomicInteger();

    TrackedFactory(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ThreadPool open(AioContext ctx) {
        opened.incrementAndGet();
        ThreadPool pool = inner.open(ctx);
        return new ThreadPool() {
            @Override
            public AioContext context() {
                return pool.context();
            }

            @Override
            public <T> PoolRequest submit(Callable<T> work, Completion<? super T> completion) {
                PoolRequest r = pool.submit(work, completion);
                submitted.incrementAndGet();
                return r;
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
                pool.close();
                closed.incrementAndGet();
            }
        };
    }
}
