package org.aiolos.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A reusable native array of {@code struct epoll_event} that {@code epoll_wait} fills.
 *
 * <p>On x86-64 the struct is packed ({@code __EPOLL_PACKED} in {@code sys/epoll.h}): a
 * 4-byte {@code events} followed directly by the 8-byte {@code data} at offset 4, 12 bytes
 * per entry, so {@code data} is read unaligned. Waiting allocates nothing. Not thread-safe:
 * one waiter at a time.
 */
public final class EpollEventArray implements AutoCloseable {
    static final long EVENT_SIZE = 12;
    private static final long OFF_EVENTS = 0;
    private static final long OFF_DATA = 4;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment events;
    private final int capacity;
    private boolean closed;

    /** An array for up to {@code capacity} events per wait (QEMU uses 128). */
    public EpollEventArray(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be > 0, got " + capacity);
        }
        this.capacity = capacity;
        this.events = arena.allocate(EVENT_SIZE * capacity, 8);
    }

    /** The maximum number of events one wait returns. */
    public int capacity() {
        return capacity;
    }

    /**
     * {@code epoll_wait(epfd, events, capacity, timeoutMs)}: blocks up to
     * {@code timeoutMs} (-1 forever, 0 not at all).
     *
     * @return the number of events, or -EINTR
     */
    public int wait(int epfd, int timeoutMs) {
        if (closed) {
            throw new IllegalStateException("epoll event array closed");
        }
        int r = Native.epollWait(epfd, events, capacity, timeoutMs);
        if (r >= 0 || r == -Errno.EINTR) {
            return r;
        }
        throw new SyscallException("epoll_wait", "epfd " + epfd + ", " + capacity + " events, timeout " + timeoutMs + " ms", -r);
    }

    /** The ready bits (epoll bits) of event {@code i}. */
    public int events(int i) {
        checkIndex(i);
        return events.get(JAVA_INT_UNALIGNED, i * EVENT_SIZE + OFF_EVENTS);
    }

    /** The 64-bit user data of event {@code i}, as given to {@link Epoll#ctl}. */
    public long data(int i) {
        checkIndex(i);
        return events.get(JAVA_LONG_UNALIGNED, i * EVENT_SIZE + OFF_DATA);
    }

    private void checkIndex(int i) {
        if (i < 0 || i >= capacity) {
            throw new IndexOutOfBoundsException("event index " + i + " outside [0, " + capacity + ")");
        }
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
