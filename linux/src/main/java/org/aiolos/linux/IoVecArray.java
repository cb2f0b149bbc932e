package org.aiolos.linux;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A reusable native {@code struct iovec[]} ({@code bits/types/struct_iovec.h}:
 * {@code void *iov_base; size_t iov_len;} — 16 bytes) for vectored I/O: preadv/pwritev,
 * io_uring READV/WRITEV and Linux AIO PREADV/PWRITEV. The vector passed to the kernel is
 * the first {@link #count()} entries.
 *
 * <p>Not thread-safe. The referenced buffers must stay alive until the I/O completes.
 */
public final class IoVecArray implements AutoCloseable {
    private static final long IOVEC_SIZE = 16;
    /** UIO_MAXIOV (linux/uio.h): the kernel's limit on iovecs per call. */
    public static final int UIO_MAXIOV = 1024;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment iovs;
    private final int capacity;
    private int count;
    private boolean closed;

    /** An array with room for {@code capacity} iovecs (at most {@link #UIO_MAXIOV}). */
    public IoVecArray(int capacity) {
        if (capacity <= 0 || capacity > UIO_MAXIOV) {
            throw new IllegalArgumentException("iovec capacity must be in [1, " + UIO_MAXIOV + "], got " + capacity);
        }
        this.capacity = capacity;
        this.iovs = arena.allocate(IOVEC_SIZE * capacity, 8);
    }

    /** Sets entry {@code i} to cover all of {@code buf} (a native segment); count grows to include it. */
    public IoVecArray set(int i, MemorySegment buf) {
        return set(i, buf, buf.byteSize());
    }

    /** Sets entry {@code i} to the first {@code len} bytes of {@code buf}. */
    public IoVecArray set(int i, MemorySegment buf, long len) {
        checkOpen();
        if (i < 0 || i >= capacity) {
            throw new IndexOutOfBoundsException("iovec index " + i + " outside [0, " + capacity + ")");
        }
        if (!buf.isNative()) {
            throw new IllegalArgumentException("iovec buffers must be native segments");
        }
        // Only the address is kept: the caller keeps the memory alive while the kernel uses it.
        if (!buf.scope().isAlive()) {
            throw new IllegalArgumentException("iovec buffer " + i + " is no longer alive: its arena is closed");
        }
        if (len < 0 || len > buf.byteSize()) {
            throw new IllegalArgumentException("iovec length " + len + " outside [0, " + buf.byteSize() + "]");
        }
        iovs.set(JAVA_LONG, i * IOVEC_SIZE, buf.address());
        iovs.set(JAVA_LONG, i * IOVEC_SIZE + 8, len);
        if (i >= count) {
            count = i + 1;
        }
        return this;
    }

    /** Sets how many entries are in use (entries beyond it are ignored). */
    public void count(int n) {
        if (n < 0 || n > capacity) {
            throw new IllegalArgumentException("iovec count " + n + " outside [0, " + capacity + "]");
        }
        count = n;
    }

    /** Forgets all entries (count 0) for reuse. */
    public void clear() {
        count = 0;
    }

    /** Entries in use. */
    public int count() {
        return count;
    }

    /** Capacity. */
    public int capacity() {
        return capacity;
    }

    /** Native address of the first iovec, for the syscalls and SQEs/iocbs. */
    public long address() {
        checkOpen();
        return iovs.address();
    }

    /** Sum of the lengths of the entries in use. */
    public long totalLength() {
        long t = 0;
        for (int i = 0; i < count; i++) {
            t += iovs.get(JAVA_LONG, i * IOVEC_SIZE + 8);
        }
        return t;
    }

    /** Base address of entry {@code i}. */
    public long base(int i) {
        checkIndex(i);
        return iovs.get(JAVA_LONG, i * IOVEC_SIZE);
    }

    /** Length of entry {@code i}. */
    public long length(int i) {
        checkIndex(i);
        return iovs.get(JAVA_LONG, i * IOVEC_SIZE + 8);
    }

    private void checkIndex(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException("iovec index " + i + " outside [0, " + count + ")");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("iovec array closed");
        }
    }

    /** Frees the native array (not the buffers it points to). Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
