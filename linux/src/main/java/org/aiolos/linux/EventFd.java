package org.aiolos.linux;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.aiolos.api.EventNotifier;

/**
 * QEMU's {@code EventNotifier} on Linux: a non-blocking close-on-exec {@code eventfd},
 * or, where the kernel has none ({@code ENOSYS}), a non-blocking pipe pair. It is how
 * another thread wakes an event loop blocked in poll/epoll/io_uring.
 *
 * <p>{@link #set()} may be called from any thread, concurrently, and allocates nothing: it
 * writes the 8-byte value 1 from a shared native constant. {@link #testAndClear()} is meant
 * for the loop's own thread (concurrent callers are harmless: the drained bytes are
 * discarded). {@link #close()} is idempotent and thread-safe: calls in flight keep the
 * descriptor alive and the last one out closes it, so a {@code set()} racing with
 * {@code close()} never writes to a descriptor number that was already reused. After
 * close, {@code set()} does nothing and {@code testAndClear()} returns false.
 */
public final class EventFd implements EventNotifier {
    // sys/eventfd.h (bits/eventfd.h): EFD_NONBLOCK = O_NONBLOCK, EFD_CLOEXEC = O_CLOEXEC
    static final int EFD_NONBLOCK = Fds.O_NONBLOCK;
    static final int EFD_CLOEXEC = Fds.O_CLOEXEC;

    /** The 8-byte value 1 written by set(); never written after class initialisation. */
    private static final MemorySegment ONE;
    /** Scratch space for draining; its content is never read, so sharing it is harmless. */
    private static final MemorySegment DRAIN = Arena.global().allocate(512, 8);

    static {
        MemorySegment one = Arena.global().allocate(8, 8);
        one.set(JAVA_LONG, 0, 1L);
        ONE = one.asReadOnly();
    }

    private static final int CLOSED = 1 << 30;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(EventFd.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int readFd;
    private final int writeFd;
    private final boolean pipe;
    /** Bit 30: closed; low bits: calls in flight. Accessed through STATE. */
    @SuppressWarnings("unused")
    private volatile int state;

    private EventFd(int readFd, int writeFd, boolean pipe) {
        this.readFd = readFd;
        this.writeFd = writeFd;
        this.pipe = pipe;
    }

    /**
     * Opens a notifier: {@code eventfd(EFD_NONBLOCK|EFD_CLOEXEC)}, or a non-blocking pipe if
     * eventfd fails with ENOSYS. If {@code initiallySet}, it starts readable.
     */
    public static EventFd open(boolean initiallySet) {
        EventFd n;
        int fd = Native.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd >= 0) {
            n = new EventFd(fd, fd, false);
        } else if (fd == -Errno.ENOSYS) {
            int[] p = Fds.pipe();
            n = new EventFd(p[0], p[1], true);
        } else {
            throw new SyscallException("eventfd", "0, EFD_NONBLOCK|EFD_CLOEXEC", -fd);
        }
        if (initiallySet) {
            n.set();
        }
        return n;
    }

    /** The descriptor to watch for readability; -1 after close. */
    @Override
    public int fd() {
        return closed() ? -1 : readFd;
    }

    /** The descriptor set() writes to: the eventfd itself, or the pipe's write end; -1 after close. */
    public int writeFd() {
        return closed() ? -1 : writeFd;
    }

    /** True if this notifier fell back to a pipe pair. */
    public boolean isPipe() {
        return pipe;
    }

    private boolean closed() {
        return ((int) STATE.getAcquire(this) & CLOSED) != 0;
    }

    private boolean enter() {
        int s;
        do {
            s = (int) STATE.getVolatile(this);
            if ((s & CLOSED) != 0) {
                return false;
            }
        } while (!STATE.compareAndSet(this, s, s + 1));
        return true;
    }

    private void exit() {
        int s = (int) STATE.getAndAdd(this, -1) - 1;
        if (s == CLOSED) {
            release();
        }
    }

    /**
     * Makes the descriptor readable: writes the 8-byte value 1, retrying on EINTR. EAGAIN
     * (eventfd counter saturated, or pipe full) counts as success: it is already set.
     */
    @Override
    public void set() {
        if (!enter()) {
            return;
        }
        try {
            long r;
            do {
                r = Native.write(writeFd, ONE, 8, true);
            } while (r == -Errno.EINTR);
            if (r < 0 && r != -Errno.EAGAIN) {
                throw new SyscallException("write", "event notifier fd " + writeFd + ", 8 bytes", (int) -r);
            }
        } finally {
            exit();
        }
    }

    /**
     * Drains the descriptor: one 8-byte read for an eventfd (which resets its counter),
     * 512-byte reads until less comes back for a pipe; EINTR is retried.
     *
     * @return true if anything was read
     */
    @Override
    public boolean testAndClear() {
        if (!enter()) {
            return false;
        }
        try {
            boolean any = false;
            long chunk = pipe ? 512 : 8;
            while (true) {
                long r = Native.read(readFd, DRAIN, chunk, true);
                if (r == -Errno.EINTR) {
                    continue;
                }
                if (r == -Errno.EAGAIN) {
                    return any;
                }
                if (r < 0) {
                    throw new SyscallException("read", "event notifier fd " + readFd + ", " + chunk + " bytes", (int) -r);
                }
                if (r > 0) {
                    any = true;
                }
                if (!pipe || r < chunk) {
                    return any;
                }
            }
        } finally {
            exit();
        }
    }

    /** Closes the descriptor(s); idempotent; the last call in flight does the closing. */
    @Override
    public void close() {
        int s;
        do {
            s = (int) STATE.getVolatile(this);
            if ((s & CLOSED) != 0) {
                return;
            }
        } while (!STATE.compareAndSet(this, s, s | CLOSED));
        if (s == 0) {
            release();
        }
    }

    private void release() {
        Fds.close(readFd);
        if (pipe) {
            Fds.close(writeFd);
        }
    }

    @Override
    public String toString() {
        return (pipe ? "EventFd[pipe " + readFd + "/" + writeFd : "EventFd[eventfd " + readFd) + (closed() ? ", closed]" : "]");
    }
}
