package org.aiolos.nbd.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.aiolos.linux.AlignedBuffers;

/**
 * Page-aligned native buffers for request payloads, recycled by size class so a steady
 * workload allocates no native memory: up to 64 KiB the class is the next power of two
 * (at least 4 KiB), above that the next multiple of 64 KiB. At most {@link #maxCachedBytes}
 * wait in the pool; a buffer returned beyond that is freed at once. Each buffer has an arena
 * of its own (shared: the threads engine's workers read and write it), so freeing one
 * frees exactly it. Buffers of {@link #MAP_THRESHOLD} and more are mapped
 * ({@link AlignedBuffers#map}), so freeing one gives its pages back to the kernel at once
 * instead of leaving them in the C allocator's free lists (which keep freed blocks of up to
 * 32 MiB, the protocol's largest payload, and made the server's RSS creep under random
 * request sizes). Home thread only.
 */
public final class BufferPool implements AutoCloseable {
    /** Buffer addresses are multiples of this: enough for O_DIRECT on any device Linux has. */
    public static final long ALIGNMENT = 4096;
    private static final long SMALL_LIMIT = 64 << 10;
    /** From this size class on, buffers are mapped rather than taken from the C heap. */
    public static final long MAP_THRESHOLD = 1 << 20;

    /** A pooled buffer: {@link #segment} has at least the capacity asked for. */
    public static final class Buffer {
        final Arena arena;
        final long sizeClass;
        public final MemorySegment segment;

        Buffer(Arena arena, long sizeClass, MemorySegment segment) {
            this.arena = arena;
            this.sizeClass = sizeClass;
            this.segment = segment;
        }
    }

    private final long maxCachedBytes;
    /** Free lists by size class: index 0..4 for 4..64 KiB, then one per 64 KiB multiple. */
    private final Map<Integer, ArrayDeque<Buffer>> free = new HashMap<>();
    /** The free lists of the classes a server uses, without boxing on the hot path. */
    private final ArrayDeque<Buffer>[] byIndex;
    private long cachedBytes;
    private long liveBuffers;
    private long liveBytes;
    private long peakLiveBytes;
    private boolean closed;

    @SuppressWarnings("unchecked")
    public BufferPool(long maxCachedBytes) {
        this.maxCachedBytes = maxCachedBytes;
        this.byIndex = new ArrayDeque[index((Proto.MAX_PAYLOAD + 2 * ALIGNMENT + SMALL_LIMIT))];
    }

    /** The free-list index of a size class. */
    private static int index(long sizeClass) {
        if (sizeClass <= SMALL_LIMIT) {
            return Long.numberOfTrailingZeros(sizeClass) - Long.numberOfTrailingZeros(ALIGNMENT);
        }
        return (int) (4 + sizeClass / SMALL_LIMIT);
    }

    private ArrayDeque<Buffer> list(long sizeClass, boolean create) {
        int i = index(sizeClass);
        if (i < byIndex.length) {
            ArrayDeque<Buffer> q = byIndex[i];
            if (q == null && create) {
                q = byIndex[i] = new ArrayDeque<>();
            }
            return q;
        }
        return create ? free.computeIfAbsent(i, k -> new ArrayDeque<>()) : free.get(i);
    }

    static long sizeClass(long size) {
        if (size <= ALIGNMENT) {
            return ALIGNMENT;
        }
        if (size <= SMALL_LIMIT) {
            return Long.highestOneBit(size - 1) << 1;
        }
        return (size + SMALL_LIMIT - 1) & -SMALL_LIMIT;
    }

    /** A buffer of at least {@code size} bytes, page-aligned; its contents are undefined. */
    public Buffer get(long size) {
        if (closed) {
            throw new IllegalStateException("buffer pool is closed");
        }
        long cls = sizeClass(size);
        ArrayDeque<Buffer> q = list(cls, false);
        Buffer b = q == null ? null : q.pollFirst();
        if (b != null) {
            cachedBytes -= cls;
        } else {
            Arena arena = Arena.ofShared();
            b = new Buffer(arena, cls, cls >= MAP_THRESHOLD ? AlignedBuffers.map(arena, cls)
                    : AlignedBuffers.allocate(arena, cls, ALIGNMENT));
        }
        liveBuffers++;
        liveBytes += cls;
        peakLiveBytes = Math.max(peakLiveBytes, liveBytes);
        return b;
    }

    /** Gives {@code b} back; after close, or beyond the cache limit, it is freed. */
    public void put(Buffer b) {
        liveBuffers--;
        liveBytes -= b.sizeClass;
        if (closed || cachedBytes + b.sizeClass > maxCachedBytes) {
            b.arena.close();
            return;
        }
        list(b.sizeClass, true).addFirst(b);
        cachedBytes += b.sizeClass;
    }

    /** Buffers handed out and not yet returned. */
    public long liveBuffers() {
        return liveBuffers;
    }

    /** Bytes (by size class) of the buffers handed out and not yet returned. */
    public long liveBytes() {
        return liveBytes;
    }

    /** The most {@link #liveBytes} has been. */
    public long peakLiveBytes() {
        return peakLiveBytes;
    }

    /** Bytes of the idle buffers kept for reuse: at most the cache limit. */
    public long cachedBytes() {
        return cachedBytes;
    }

    /** The cache limit given at construction. */
    public long maxCachedBytes() {
        return maxCachedBytes;
    }

    /** Frees the cached buffers; buffers still out are freed when they come back. */
    @Override
    public void close() {
        closed = true;
        for (ArrayDeque<Buffer> q : free.values()) {
            q.forEach(b -> b.arena.close());
        }
        free.clear();
        for (int i = 0; i < byIndex.length; i++) {
            if (byIndex[i] != null) {
                byIndex[i].forEach(b -> b.arena.close());
                byIndex[i] = null;
            }
        }
        cachedBytes = 0;
    }
}
