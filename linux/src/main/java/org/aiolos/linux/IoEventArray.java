package org.aiolos.linux;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A reusable native array of {@code struct io_event} ({@code linux/aio_abi.h}:
 * {@code u64 data; u64 obj; s64 res; s64 res2;} — 32 bytes) that {@code io_getevents} or
 * {@link UserRing#reap} fill. Results are the raw kernel values.
 *
 * <p>Not thread-safe.
 */
public final class IoEventArray implements AutoCloseable {
    static final long EVENT_SIZE = 32;
    private static final long DATA = 0;
    private static final long OBJ = 8;
    private static final long RES = 16;
    private static final long RES2 = 24;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment events;
    private final int capacity;
    private boolean closed;

    /** Room for {@code capacity} events. */
    public IoEventArray(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("event capacity must be > 0, got " + capacity);
        }
        this.capacity = capacity;
        this.events = arena.allocate(EVENT_SIZE * capacity, 8);
    }

    /** Number of events it holds. */
    public int capacity() {
        return capacity;
    }

    long address() {
        if (closed) {
            throw new IllegalStateException("io_event array closed");
        }
        return events.address();
    }

    /** Copies one kernel {@code io_event} at absolute address {@code src} into slot {@code i}. */
    void copyFrom(int i, long src) {
        long b = i * EVENT_SIZE;
        events.set(JAVA_LONG, b + DATA, Native.ALL.get(JAVA_LONG, src + DATA));
        events.set(JAVA_LONG, b + OBJ, Native.ALL.get(JAVA_LONG, src + OBJ));
        events.set(JAVA_LONG, b + RES, Native.ALL.get(JAVA_LONG, src + RES));
        events.set(JAVA_LONG, b + RES2, Native.ALL.get(JAVA_LONG, src + RES2));
    }

    private long base(int i) {
        if (closed) {
            throw new IllegalStateException("io_event array closed");
        }
        if (i < 0 || i >= capacity) {
            throw new IndexOutOfBoundsException("event index " + i + " outside [0, " + capacity + ")");
        }
        return i * EVENT_SIZE;
    }

    /** The iocb's user data ({@code aio_data}). */
    public long data(int i) {
        return events.get(JAVA_LONG, base(i) + DATA);
    }

    /** Address of the iocb that completed. */
    public long obj(int i) {
        return events.get(JAVA_LONG, base(i) + OBJ);
    }

    /**
     * The request's result as QEMU reads it ({@code io_event_ret} in {@code block/linux-aio.c}):
     * {@code (res2 << 32) | res}. On x86-64 the kernel stores the whole 64-bit result
     * (bytes, or a negative errno) in {@code res} and leaves {@code res2} 0 for reads and
     * writes, so this equals {@link #rawRes}.
     */
    public long res(int i) {
        long b = base(i);
        return (events.get(JAVA_LONG, b + RES2) << 32) | events.get(JAVA_LONG, b + RES);
    }

    /** The kernel's {@code res} field as stored. */
    public long rawRes(int i) {
        return events.get(JAVA_LONG, base(i) + RES);
    }

    /** The kernel's secondary result {@code res2}. */
    public long res2(int i) {
        return events.get(JAVA_LONG, base(i) + RES2);
    }

    /** Frees the native memory. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
