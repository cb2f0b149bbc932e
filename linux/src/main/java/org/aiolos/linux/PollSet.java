package org.aiolos.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A reusable native {@code struct pollfd[]} for {@code ppoll(2)}, the array fdmon-poll
 * rebuilds on every wait (QEMU starts it at 8 entries and doubles it). Waiting is
 * allocation-free: the timespec lives next to the array.
 *
 * <p>Not thread-safe: one thread fills and polls it at a time (it may be created on
 * another thread; memory comes from shared arenas). Layout from {@code asm-generic/poll.h}:
 * {@code int fd; short events; short revents;} — 8 bytes.
 */
public final class PollSet implements AutoCloseable {
    private static final long POLLFD_SIZE = 8;
    private static final long OFF_FD = 0;
    private static final long OFF_EVENTS = 4;
    private static final long OFF_REVENTS = 6;
    private static final int INITIAL_CAPACITY = 8;

    private final Arena timeArena = Arena.ofShared();
    /** struct timespec { time_t tv_sec; long tv_nsec; } — 16 bytes on x86-64. */
    private final MemorySegment timespec = timeArena.allocate(16, 8);
    private Arena arena;
    private MemorySegment fds;
    private int capacity;
    private boolean closed;

    /** An empty set with capacity 8. */
    public PollSet() {
        capacity = INITIAL_CAPACITY;
        arena = Arena.ofShared();
        fds = arena.allocate(POLLFD_SIZE * capacity, 8);
    }

    /** How many entries fit before the array grows. */
    public int capacity() {
        return capacity;
    }

    /** Makes room for at least {@code n} entries, doubling the capacity as needed. */
    public void ensureCapacity(int n) {
        checkOpen();
        if (n < 0) {
            throw new IllegalArgumentException("capacity must be >= 0, got " + n);
        }
        if (n <= capacity) {
            return;
        }
        int c = capacity;
        while (c < n) {
            if (c > (1 << 29)) {
                throw new IllegalArgumentException("poll set too large: " + n);
            }
            c <<= 1;
        }
        Arena newArena = Arena.ofShared();
        MemorySegment newFds = newArena.allocate(POLLFD_SIZE * c, 8);
        newFds.copyFrom(fds);
        Arena old = arena;
        arena = newArena;
        fds = newFds;
        capacity = c;
        old.close();
    }

    /** Sets entry {@code index} to watch {@code fd} for {@code events} (poll bits), clearing its revents. */
    public void set(int index, int fd, int events) {
        if (index < 0) {
            throw new IllegalArgumentException("index must be >= 0, got " + index);
        }
        if ((events & ~0xffff) != 0) {
            throw new IllegalArgumentException("poll events must fit in 16 bits, got 0x" + Integer.toHexString(events));
        }
        ensureCapacity(index + 1);
        long base = index * POLLFD_SIZE;
        fds.set(JAVA_INT, base + OFF_FD, fd);
        fds.set(JAVA_SHORT, base + OFF_EVENTS, (short) events);
        fds.set(JAVA_SHORT, base + OFF_REVENTS, (short) 0);
    }

    /** The fd of entry {@code i}. */
    public int fd(int i) {
        checkIndex(i);
        return fds.get(JAVA_INT, i * POLLFD_SIZE + OFF_FD);
    }

    /** The requested events of entry {@code i}. */
    public int events(int i) {
        checkIndex(i);
        return Short.toUnsignedInt(fds.get(JAVA_SHORT, i * POLLFD_SIZE + OFF_EVENTS));
    }

    /** The events the last ppoll reported for entry {@code i}. */
    public int revents(int i) {
        checkIndex(i);
        return Short.toUnsignedInt(fds.get(JAVA_SHORT, i * POLLFD_SIZE + OFF_REVENTS));
    }

    /** Zeroes the revents of the first {@code count} entries. */
    public void clearRevents(int count) {
        checkCount(count);
        for (int i = 0; i < count; i++) {
            fds.set(JAVA_SHORT, i * POLLFD_SIZE + OFF_REVENTS, (short) 0);
        }
    }

    /**
     * {@code ppoll} on the first {@code count} entries. A negative timeout waits forever
     * (NULL timespec), 0 does not block, otherwise nanosecond precision with
     * {@code tv_sec} capped at INT32_MAX (as QEMU's {@code qemu_poll_ns}).
     *
     * @return the number of entries with non-zero revents, or -EINTR
     */
    public int ppoll(int count, long timeoutNs) {
        checkOpen();
        checkCount(count);
        MemorySegment ts;
        if (timeoutNs < 0) {
            ts = MemorySegment.NULL;
        } else {
            long sec = timeoutNs / 1_000_000_000L;
            timespec.set(JAVA_LONG, 0, Math.min(sec, Integer.MAX_VALUE));
            timespec.set(JAVA_LONG, 8, timeoutNs % 1_000_000_000L);
            ts = timespec;
        }
        int r = Native.ppoll(fds, count, ts);
        if (r >= 0 || r == -Errno.EINTR) {
            return r;
        }
        throw new SyscallException("ppoll", count + " fds, timeout " + timeoutNs + " ns", -r);
    }

    private void checkIndex(int i) {
        if (i < 0 || i >= capacity) {
            throw new IndexOutOfBoundsException("poll set index " + i + " outside [0, " + capacity + ")");
        }
    }

    private void checkCount(int count) {
        if (count < 0 || count > capacity) {
            throw new IllegalArgumentException("count " + count + " outside [0, " + capacity + "]");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("poll set closed");
        }
    }

    /** Frees the native memory. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
            timeArena.close();
        }
    }
}
