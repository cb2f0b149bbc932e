package org.aiolos.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Plain file-descriptor operations: close, the non-blocking flag, read/write, pipes,
 * socket pairs and duplication, plus an fd counter for leak tests.
 *
 * <p>Return convention for reads and writes: {@code n ≥ 0}, or {@code -EAGAIN} /
 * {@code -EINTR}; every other failure throws {@link SyscallException}. They are
 * non-critical downcalls: the caller's descriptor may be blocking and the buffer large, so
 * the thread must stay reachable for safepoints (EventFd's own 8-byte traffic uses the
 * critical variant).
 */
public final class Fds {
    // asm-generic/fcntl.h
    static final int O_NONBLOCK = 0x800;      // 00004000
    static final int O_CLOEXEC = 0x80000;     // 02000000
    static final int F_GETFD = 1;
    static final int F_GETFL = 3;
    static final int F_SETFL = 4;
    static final int F_DUPFD_CLOEXEC = 1030;  // linux/fcntl.h: F_LINUX_SPECIFIC_BASE + 6
    // bits/socket.h, bits/socket_type.h
    static final int AF_UNIX = 1;
    static final int SOCK_STREAM = 1;
    static final int SOCK_NONBLOCK = O_NONBLOCK;
    static final int SOCK_CLOEXEC = O_CLOEXEC;

    private Fds() {
    }

    /**
     * Closes {@code fd}. EINTR is ignored: on Linux the descriptor is released even when
     * close is interrupted, so retrying could close a reused number. EBADF (and any other
     * error) throws.
     */
    public static void close(int fd) {
        int r = Native.close(fd);
        if (r < 0 && r != -Errno.EINTR) {
            throw new SyscallException("close", "fd " + fd, -r);
        }
    }

    /** True if {@code fd} is an open descriptor ({@code fcntl(F_GETFD)}); false on EBADF. */
    public static boolean isOpen(int fd) {
        if (fd < 0) {
            return false;
        }
        int r = Native.fcntl("fcntl", fd, F_GETFD, 0);
        if (r >= 0) {
            return true;
        }
        if (r == -Errno.EBADF) {
            return false;
        }
        throw new SyscallException("fcntl", "F_GETFD, fd " + fd, -r);
    }

    /** Sets or clears {@code O_NONBLOCK} on {@code fd}. */
    public static void setNonBlocking(int fd, boolean on) {
        int flags = Native.fcntl("fcntl", fd, F_GETFL, 0);
        if (flags < 0) {
            throw new SyscallException("fcntl", "F_GETFL, fd " + fd, -flags);
        }
        int wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        if (wanted != flags) {
            int r = Native.fcntl("fcntl", fd, F_SETFL, wanted);
            if (r < 0) {
                throw new SyscallException("fcntl", "F_SETFL, fd " + fd, -r);
            }
        }
    }

    /**
     * Reads up to {@code len} bytes into {@code buf}.
     *
     * @return n ≥ 0 (0 = end of file), or -EAGAIN / -EINTR
     */
    public static int read(int fd, MemorySegment buf, long len) {
        checkReadTarget(buf, len);
        long r = Native.read(fd, buf, len, false);
        if (r >= 0 || r == -Errno.EAGAIN || r == -Errno.EINTR) {
            return (int) r;
        }
        throw new SyscallException("read", "fd " + fd + ", " + len + " bytes", (int) -r);
    }

    /**
     * Writes up to {@code len} bytes from {@code buf}.
     *
     * @return n ≥ 0, or -EAGAIN / -EINTR
     */
    public static int write(int fd, MemorySegment buf, long len) {
        checkBuffer(buf, len);
        long r = Native.write(fd, buf, len, false);
        if (r >= 0 || r == -Errno.EAGAIN || r == -Errno.EINTR) {
            return (int) r;
        }
        throw new SyscallException("write", "fd " + fd + ", " + len + " bytes", (int) -r);
    }

    /**
     * {@link #checkBuffer} for a buffer the kernel writes into: FFM checks that a segment
     * passed to a system call is alive, but not that it is writable, so a read-only view
     * would be written by the kernel.
     */
    static void checkReadTarget(MemorySegment buf, long len) {
        checkBuffer(buf, len);
        if (buf.isReadOnly()) {
            throw new IllegalArgumentException("buffer is read-only and cannot receive the data read");
        }
    }

    static void checkBuffer(MemorySegment buf, long len) {
        if (buf == null) {
            throw new NullPointerException("buffer");
        }
        if (len < 0) {
            throw new IllegalArgumentException("length must be >= 0, got " + len);
        }
        if (len > buf.byteSize()) {
            throw new IllegalArgumentException("length " + len + " exceeds the buffer's " + buf.byteSize() + " bytes");
        }
        if (len > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("length " + len + " exceeds " + Integer.MAX_VALUE);
        }
        if (!buf.isNative()) {
            throw new IllegalArgumentException("buffer must be a native segment");
        }
    }

    /**
     * A non-blocking, close-on-exec pipe ({@code pipe2(O_NONBLOCK|O_CLOEXEC)}).
     *
     * @return {read end, write end}
     */
    public static int[] pipe() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(JAVA_INT, 2);
            int r = Native.pipe2(fds, O_NONBLOCK | O_CLOEXEC);
            if (r < 0) {
                throw new SyscallException("pipe2", "O_NONBLOCK|O_CLOEXEC", -r);
            }
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        }
    }

    /** A connected, non-blocking, close-on-exec {@code AF_UNIX SOCK_STREAM} pair. */
    public static int[] socketPair() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(JAVA_INT, 2);
            int r = Native.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds);
            if (r < 0) {
                throw new SyscallException("socketpair", "AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC", -r);
            }
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        }
    }

    /**
     * Duplicates {@code fd} to the lowest free number, close-on-exec
     * ({@code fcntl(F_DUPFD_CLOEXEC)}; the fault-injection name is {@code dup}).
     */
    public static int dup(int fd) {
        int r = Native.fcntl("dup", fd, F_DUPFD_CLOEXEC, 0);
        if (r < 0) {
            throw new SyscallException("dup", "fd " + fd, -r);
        }
        return r;
    }

    /**
     * The number of descriptors this process has open, from {@code /proc/self/fd}, not
     * counting the one used to list that directory. For leak tests: compare before/after.
     */
    public static int openFdCount() {
        String[] names = new java.io.File("/proc/self/fd").list();
        if (names == null) {
            throw new IllegalStateException("cannot list /proc/self/fd");
        }
        return names.length - 1;
    }
}
