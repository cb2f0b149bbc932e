package org.aiolos.core.coroutine;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Coroutines on virtual threads with a strict hand-off: the fallback for JVMs started
 * without access to {@code jdk.internal.vm}.
 */
final class VirtualThreadBackend extends Backend {
    static final VirtualThreadBackend INSTANCE = new VirtualThreadBackend();

    private final ThreadFactory factory = Thread.ofVirtual().name("aiolos-coroutine-", 0).factory();
    private final AtomicInteger liveThreads = new AtomicInteger();

    private VirtualThreadBackend() {
        super(1);
    }

    @Override
    String name() {
        return VIRTUAL_THREAD;
    }

    @Override
    Fiber newFiber() {
        return new VirtualThreadFiber(this);
    }

    @Override
    boolean fibersNeedDestroy() {
        return true; // a parked virtual thread lives until told to exit
    }

    Thread newThread(Runnable body) {
        liveThreads.incrementAndGet();
        return factory.newThread(body);
    }

    void fiberExited() {
        liveThreads.decrementAndGet();
    }

    /** Virtual threads started for fibers and not yet exited (running, yielded or pooled). */
    int liveThreads() {
        return liveThreads.get();
    }
}
