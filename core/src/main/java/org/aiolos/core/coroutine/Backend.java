package org.aiolos.core.coroutine;

/** One way of running coroutines, with its own fiber pool. */
abstract class Backend {
    static final String CONTINUATION = "continuation";
    static final String VIRTUAL_THREAD = "virtual-thread";

    final FiberPool pool;

    Backend(int index) {
        this.pool = new FiberPool(this, index);
    }

    abstract String name();

    abstract Fiber newFiber();

    /** Whether pooled fibers hold something the garbage collector does not reclaim. */
    abstract boolean fibersNeedDestroy();

    @Override
    public String toString() {
        return name();
    }
}
