package org.aiolos.diskio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.aiolos.api.diskio.DiskFile;
import org.aiolos.api.diskio.DiskIoEngine.IoCompletion;

/**
 * The fixed set of {@link DiskRequest}s an engine owns (its queue depth): ids are
 * 0..capacity-1, so an id round-trips through the kernel's user-data field and back to
 * its request with an array lookup, and a steady stream of requests allocates nothing
 * (inline iovecs live in one native block).
 *
 * <p>Home thread only.
 */
public final class DiskRequestPool implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final DiskRequest[] requests;
    private final int[] free;
    private int freeCount;
    private boolean closed;

    public DiskRequestPool(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("request pool capacity must be > 0, got " + capacity);
        }
        long stride = DiskRequest.INLINE_IOVECS * DiskRequest.IOVEC_SIZE;
        MemorySegment block = arena.allocate(stride * capacity, 8);
        requests = new DiskRequest[capacity];
        free = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            requests[i] = new DiskRequest(i, block.asSlice(stride * i, stride));
            free[i] = capacity - 1 - i;
        }
        freeCount = capacity;
    }

    /**
     * Takes a free request and fills it; the caller has validated the arguments
     * ({@link DiskRequest#validate}).
     *
     * @return the request, or null when all are in use
     */
    public DiskRequest acquire(DiskRequest.Kind kind, DiskFile file, long offset, MemorySegment[] buffers,
                               boolean fua, IoCompletion completion) {
        if (closed) {
            throw new IllegalStateException("request pool closed");
        }
        if (freeCount == 0) {
            return null;
        }
        DiskRequest r = requests[free[--freeCount]];
        r.init(kind, file, offset, buffers, fua, completion);
        return r;
    }

    /** Gives a finished request back. */
    public void release(DiskRequest r) {
        r.clear();
        free[freeCount++] = r.id();
    }

    /**
     * Zero-fills what a read past end of file did not read ({@link DiskRequest#zeroTail}),
     * releases a finished request and runs its completion with its result. A completion
     * that throws does not stop the caller's loop over a batch of completions: the
     * exception is returned (added to {@code failure} if there already was one) for the
     * caller to rethrow once the batch is done, so the context reports it.
     */
    public Throwable finish(DiskRequest r, Throwable failure) {
        r.zeroTail();
        IoCompletion c = r.completion();
        long result = r.result();
        release(r);
        try {
            c.complete(result);
        } catch (Throwable t) {
            if (failure == null) {
                return t;
            }
            failure.addSuppressed(t);
        }
        return failure;
    }

    /** Rethrows what {@link #finish} collected, if anything. */
    public static void rethrow(Throwable failure) {
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException("a disk I/O completion failed", failure);
        }
    }

    /** The request with pool slot {@code id}. */
    public DiskRequest get(int id) {
        return requests[id];
    }

    public int capacity() {
        return requests.length;
    }

    /** Requests acquired and not released. */
    public int inUse() {
        return requests.length - freeCount;
    }

    /** Frees the native memory; every request must have been released. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
