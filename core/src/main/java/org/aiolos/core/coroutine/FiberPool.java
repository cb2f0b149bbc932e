package org.aiolos.core.coroutine;

import java.util.ArrayDeque;

/**
 * Finished coroutines' fibers, kept for reuse (QEMU's coroutine pool,
 * {@code qemu_coroutine_create} and {@code coroutine_delete} in
 * {@code util/qemu-coroutine.c}): each
 * thread keeps up to two batches of {@value #BATCH}; when its pool is full a batch moves
 * to a global pool of at most {@link #globalMax} fibers (one batch of overshoot allowed),
 * or is destroyed when that is full too. Creating takes from the thread's pool, then
 * refills a batch from the global pool, then makes a new fiber.
 *
 * <p>QEMU also caps the global pool by {@code vm.max_map_count}, because each of its
 * stacks costs two memory mappings; fibers here live in the Java heap, so that cap does
 * not apply.
 */
final class FiberPool {
    static final int BATCH = 128;
    static final int LOCAL_MAX = 2 * BATCH;

    final Backend backend;
    final int index;
    /** Guarded by itself. */
    private final ArrayDeque<ArrayDeque<Fiber>> global = new ArrayDeque<>();
    /** Fibers in {@link #global}; guarded by {@link #global}. */
    private int globalSize;
    private final int globalMax = BATCH;

    FiberPool(Backend backend, int index) {
        this.backend = backend;
        this.index = index;
    }

    Fiber acquire() {
        ArrayDeque<Fiber> local = ThreadState.current().localPool(this);
        Fiber f = local.pollLast();
        if (f != null) {
            return f;
        }
        ArrayDeque<Fiber> batch;
        synchronized (global) {
            batch = global.pollLast();
            if (batch != null) {
                globalSize -= batch.size();
            }
        }
        if (batch != null) {
            local.addAll(batch);
            f = local.pollLast();
            if (f != null) {
                return f;
            }
        }
        return backend.newFiber();
    }

    void release(Fiber f) {
        ArrayDeque<Fiber> local = ThreadState.current().localPool(this);
        if (local.size() >= LOCAL_MAX) {
            ArrayDeque<Fiber> batch = new ArrayDeque<>(BATCH);
            for (int i = 0; i < BATCH; i++) {
                batch.add(local.pollFirst()); // the coldest ones
            }
            boolean kept;
            synchronized (global) {
                kept = globalSize < globalMax;
                if (kept) {
                    global.addLast(batch);
                    globalSize += batch.size();
                }
            }
            if (!kept) {
                destroyAll(batch);
            }
        }
        local.addLast(f);
    }

    /** Fibers in the calling thread's pool. */
    int localSize() {
        return ThreadState.current().localPool(this).size();
    }

    int globalSize() {
        synchronized (global) {
            return globalSize;
        }
    }

    /** Destroys the calling thread's pooled fibers and the global ones. */
    void drain() {
        destroyAll(ThreadState.current().localPool(this));
        synchronized (global) {
            for (ArrayDeque<Fiber> b : global) {
                destroyAll(b);
            }
            global.clear();
            globalSize = 0;
        }
    }

    static void destroyAll(ArrayDeque<Fiber> fibers) {
        Fiber f;
        while ((f = fibers.pollFirst()) != null) {
            f.destroy();
        }
    }
}
