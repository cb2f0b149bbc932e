package org.aiolos.diskio;

import java.util.Objects;
import org.aiolos.api.BottomHalf;

/**
 * The completions an engine has taken from the kernel and not yet run, and the pass that
 * runs them, made safe for a callback that runs the loop again.
 *
 * <p>A callback may wait in a nested loop for a request it submitted itself (QEMU's
 * {@code AIO_WAIT_WHILE} from a completion). Two things must then still happen: the
 * nested loop's own pass reaps the kernel again, and the completions the outer pass took
 * but has not reached yet still run, although the kernel will never signal them again.
 * QEMU's {@code qemu_laio_process_completions} ({@code block/linux-aio.c}) does both by
 * keeping its cursor in the engine's state, so a nested call continues the same batch,
 * and by scheduling its completion bottom half before the callbacks, so a nested
 * {@code aio_poll} runs that call even when no fd fires. {@link #runAll} does the same
 * with a queue: each step takes the head before running it, so an outer and a nested
 * pass never run one completion twice, and the bottom half is scheduled while a callback
 * runs with others left behind it.
 *
 * <p>A request is queued once per trip to the kernel and the queue holds at most the
 * engine's requests in flight, so a fixed ring of the pool's size never overflows.
 * Queuing allocates nothing. Home thread only.
 */
public final class CompletionQueue {
    /** What a pass does with one completion: finish the request or queue its remainder. */
    @FunctionalInterface
    public interface Handler {
        Throwable handle(int id, long res, Throwable failure);
    }

    private final int[] ids;
    private final long[] results;
    private final int mask;
    private long head;
    private long tail;
    private final BottomHalf continuation;

    /**
     * @param capacity     the engine's request pool size: no more can be queued at once
     * @param continuation a bottom half that runs a pass (the engine's completion pass);
     *                     scheduled while a pass is under way with work left
     */
    public CompletionQueue(int capacity, BottomHalf continuation) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("completion queue capacity must be > 0, got " + capacity);
        }
        int size = Integer.highestOneBit(capacity);
        if (size < capacity) {
            size <<= 1;
        }
        ids = new int[size];
        results = new long[size];
        mask = size - 1;
        this.continuation = Objects.requireNonNull(continuation, "continuation");
    }

    /** Queues a completion the kernel reported. */
    public void add(int id, long res) {
        if (tail - head == ids.length) {
            throw new IllegalStateException("completion queue full (" + ids.length + ")");
        }
        int i = (int) tail & mask;
        ids[i] = id;
        results[i] = res;
        tail++;
    }

    public boolean isEmpty() {
        return head == tail;
    }

    public int size() {
        return (int) (tail - head);
    }

    /**
     * Runs every queued completion, those that callbacks' nested passes queue included,
     * oldest first. Re-entrant: a nested call continues where the outer one is.
     *
     * @return {@code failure} with whatever the handler added
     */
    public Throwable runAll(Handler handler, Throwable failure) {
        boolean scheduled = false;
        while (head != tail) {
            int i = (int) head & mask;
            head++; // taken before it runs: a nested pass starts at the next one
            if (!scheduled && head != tail) {
                // Before a callback that leaves others behind: a nested loop waiting for one
                // of them runs a pass through this bottom half, though no fd will fire for
                // them. A batch of one needs none (the usual case at queue depth 1).
                continuation.schedule();
                scheduled = true;
            }
            failure = handler.handle(ids[i], results[i], failure);
        }
        if (scheduled) {
            continuation.cancel();
        }
        return failure;
    }
}
