package org.aiolos.linux;

import org.aiolos.linux.faults.Faults;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * The one owner of the {@link Linker}: every downcall handle of the module is created here,
 * once, as a static final constant, and every wrapper returns the raw outcome — the result,
 * or {@code -errno} — leaving the decision "expected or exception" to the public classes.
 *
 * <p>Conventions:
 * <ul>
 *   <li>every handle captures {@code errno} ({@code Linker.Option.captureCallState}); the
 *       capture segment is per thread and reused ({@link #state()});</li>
 *   <li>except on the loop's hot path: eventfd/pipe read and write, ppoll, epoll_wait and
 *       io_uring_enter have a second handle that captures nothing. The JDK slices the
 *       capture segment on every capturing downcall, an object that C2 removes only when it
 *       inlines the whole method-handle chain, which it does not from a deep loop
 *       compilation with default flags (34-38 B per loop iteration measured). Those
 *       wrappers call the plain handle first, which almost always succeeds; only when it
 *       returns -1 do they call again through the capturing handle to learn errno, in a
 *       form whose outcome the first call could have had itself (the read or write again,
 *       the wait without blocking), so nothing is lost and no call is repeated with effect
 *       twice (a failed call had none);</li>
 *   <li>short calls that cannot block are {@code critical(false)} (no thread-state
 *       transition); calls that can block (ppoll, epoll_wait, io_uring_enter with a wait,
 *       io_getevents, accept4, connect, file I/O, fdatasync) are not, so the JVM can reach a
 *       safepoint while they sleep;</li>
 *   <li>each wrapper consults {@link Faults} (one opaque read when nothing is armed).</li>
 * </ul>
 */
final class Native {
    static final Linker LINKER = Linker.nativeLinker();

    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(PathElement.groupElement("errno"));

    /**
     * The captured-state segment, one per thread, allocated once from an automatic arena
     * (freed when the thread and its ThreadLocal are gone). A virtual thread gets its own on
     * first use; a downcall pins its carrier, so the segment is never shared mid-call.
     */
    private static final ThreadLocal<MemorySegment> STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE));

    /** The whole address space, for reading kernel-shared memory known only by address. */
    static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    // x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl, asm/unistd_64.h)
    static final long SYS_IO_SETUP = 206;
    static final long SYS_IO_DESTROY = 207;
    static final long SYS_IO_GETEVENTS = 208;
    static final long SYS_IO_SUBMIT = 209;
    static final long SYS_IO_URING_SETUP = 425;
    static final long SYS_IO_URING_ENTER = 426;
    static final long SYS_IO_URING_REGISTER = 427;
    /** io_uring_enter flag: wait for min_complete completions. */
    static final int IORING_ENTER_GETEVENTS = 1;

    private static final MethodHandle CLOSE = fn("close", true, FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FCNTL = fn("fcntl", true,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    /**
     * read/write come twice: critical for the 8-byte eventfd (and pipe-notifier) traffic on
     * descriptors we opened non-blocking, non-critical for general use, where the caller's
     * descriptor might block or the buffer be large.
     */
    private static final MethodHandle READ_SHORT = fn("read", true, FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE_SHORT = fn("write", true, FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    // The hot-path handles without errno capture (see the class comment).
    private static final MethodHandle READ_SHORT_PLAIN = plain("read", true,
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE_SHORT_PLAIN = plain("write", true,
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle PPOLL_PLAIN = plain("ppoll", false,
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
    private static final MethodHandle EPOLL_WAIT_PLAIN = plain("epoll_wait", false,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = fn("read", false, FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = fn("write", false, FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle PIPE2 = fn("pipe2", true, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SOCKETPAIR = fn("socketpair", true,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle EVENTFD = fn("eventfd", true, FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle PPOLL = fn("ppoll", false,
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
    private static final MethodHandle EPOLL_CREATE1 = fn("epoll_create1", true, FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CTL = fn("epoll_ctl", true,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle EPOLL_WAIT = fn("epoll_wait", false,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final FunctionDescriptor SYSCALL6 = FunctionDescriptor.of(JAVA_LONG,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    /** libc {@code syscall(long, ...)}: variadic from the second argument on. */
    private static final MethodHandle SYSCALL_SHORT = fn("syscall", true, SYSCALL6, Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SYSCALL_BLOCKING = fn("syscall", false, SYSCALL6, Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SYSCALL_SHORT_PLAIN = plain("syscall", true, SYSCALL6,
            Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SYSCALL_BLOCKING_PLAIN = plain("syscall", false, SYSCALL6,
            Linker.Option.firstVariadicArg(1));
    /** A zero {@code struct timespec}: ppoll's non-blocking retry (glibc's ppoll does not write it). */
    private static final MemorySegment ZERO_TIMESPEC = Arena.global().allocate(16, 8);
    private static final MethodHandle MMAP = fn("mmap", false,
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = fn("munmap", false, FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle OPEN = fn("open", false,
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle PREAD = fn("pread", false,
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle PWRITE = fn("pwrite", false,
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle PREADV = fn("preadv", false,
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG));
    private static final MethodHandle PWRITEV = fn("pwritev", false,
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FDATASYNC = fn("fdatasync", false, FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FTRUNCATE = fn("ftruncate", false, FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FALLOCATE = fn("fallocate", false,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle LSEEK = fn("lseek", false,
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle STATX = fn("statx", false,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle IOCTL = fn("ioctl", false,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle SOCKET = fn("socket", true, FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SETSOCKOPT = fn("setsockopt", true,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle BIND = fn("bind", true, FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = fn("listen", true, FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle GETSOCKNAME = fn("getsockname", true,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle GETPEERNAME = fn("getpeername", true,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle ACCEPT4 = fn("accept4", false,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle CONNECT = fn("connect", false, FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SHUTDOWN = fn("shutdown", true, FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

    private Native() {
    }

    private static MethodHandle fn(String name, boolean critical, FunctionDescriptor desc, Linker.Option... extra) {
        return handle(name, true, critical, desc, extra);
    }

    /** A handle that does not capture errno: only for the hot-path wrappers that retry on -1. */
    private static MethodHandle plain(String name, boolean critical, FunctionDescriptor desc, Linker.Option... extra) {
        return handle(name, false, critical, desc, extra);
    }

    private static MethodHandle handle(String name, boolean capture, boolean critical, FunctionDescriptor desc,
                                       Linker.Option... extra) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
        List<Linker.Option> options = new ArrayList<>(List.of(extra));
        if (capture) {
            options.add(Linker.Option.captureCallState("errno"));
        }
        if (critical) {
            options.add(Linker.Option.critical(false));
        }
        return LINKER.downcallHandle(symbol, desc, options.toArray(Linker.Option[]::new));
    }

    /** This thread's reusable captured-state segment. */
    static MemorySegment state() {
        return STATE.get();
    }

    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new AssertionError("unexpected checked exception from a downcall", t);
    }

    private static int ret(int r, MemorySegment st) {
        return r >= 0 ? r : -errno(st);
    }

    private static long ret(long r, MemorySegment st) {
        return r >= 0 ? r : -errno(st);
    }

    /** -errno if an armed rule makes {@code call} fail, else 0. */
    private static int injected(String call) {
        if (Faults.armed()) {
            long c = Faults.check(call, 0);
            if (c < 0) {
                return (int) c;
            }
        }
        return 0;
    }

    // ---- descriptors -------------------------------------------------------------------

    static int close(int fd) {
        int f = injected("close");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) CLOSE.invokeExact(st, fd), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int fcntl(String callName, int fd, int cmd, int arg) {
        int f = injected(callName);
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) FCNTL.invokeExact(st, fd, cmd, arg), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** read(2); {@code nonBlockingShort}: the descriptor is ours, non-blocking, the buffer small (critical call). */
    static long read(int fd, MemorySegment buf, long len, boolean nonBlockingShort) {
        if (Faults.armed()) {
            long c = Faults.check("read", len);
            if (c < 0) {
                return c;
            }
            len = c;
        }
        if (nonBlockingShort) {
            long r;
            try {
                r = (long) READ_SHORT_PLAIN.invokeExact(fd, buf, len);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            return r >= 0 ? r : readShortFailed(fd, buf, len);
        }
        MemorySegment st = state();
        try {
            return ret((long) READ.invokeExact(st, fd, buf, len), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The plain read failed (and so did nothing): the same read again, capturing errno. */
    private static long readShortFailed(int fd, MemorySegment buf, long len) {
        MemorySegment st = state();
        try {
            return ret((long) READ_SHORT.invokeExact(st, fd, buf, len), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** write(2); {@code nonBlockingShort} as for {@link #read}. */
    static long write(int fd, MemorySegment buf, long len, boolean nonBlockingShort) {
        if (Faults.armed()) {
            long c = Faults.check("write", len);
            if (c < 0) {
                return c;
            }
            len = c;
        }
        if (nonBlockingShort) {
            long r;
            try {
                r = (long) WRITE_SHORT_PLAIN.invokeExact(fd, buf, len);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            return r >= 0 ? r : writeShortFailed(fd, buf, len);
        }
        MemorySegment st = state();
        try {
            return ret((long) WRITE.invokeExact(st, fd, buf, len), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The plain write failed (and so wrote nothing): the same write again, capturing errno. */
    private static long writeShortFailed(int fd, MemorySegment buf, long len) {
        MemorySegment st = state();
        try {
            return ret((long) WRITE_SHORT.invokeExact(st, fd, buf, len), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int pipe2(MemorySegment fds, int flags) {
        int f = injected("pipe2");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) PIPE2.invokeExact(st, fds, flags), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int socketpair(int domain, int type, int protocol, MemorySegment fds) {
        int f = injected("socketpair");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) SOCKETPAIR.invokeExact(st, domain, type, protocol, fds), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int eventfd(int initval, int flags) {
        int f = injected("eventfd");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) EVENTFD.invokeExact(st, initval, flags), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- poll / epoll ------------------------------------------------------------------

    static int ppoll(MemorySegment fds, long nfds, MemorySegment timespec) {
        int f = injected("ppoll");
        if (f != 0) {
            return f;
        }
        int r;
        try {
            r = (int) PPOLL_PLAIN.invokeExact(fds, nfds, timespec, MemorySegment.NULL);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return r >= 0 ? r : ppollFailed(fds, nfds);
    }

    /**
     * The plain ppoll failed: the same poll without blocking, capturing errno. A lasting
     * error (EBADF, EFAULT, EINVAL, ENOMEM) comes back; an EINTR does not, and the answer is
     * then the readiness of now, which an interrupted wait may return as well.
     */
    private static int ppollFailed(MemorySegment fds, long nfds) {
        MemorySegment st = state();
        try {
            return ret((int) PPOLL.invokeExact(st, fds, nfds, ZERO_TIMESPEC, MemorySegment.NULL), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int epollCreate1(int flags) {
        int f = injected("epoll_create1");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) EPOLL_CREATE1.invokeExact(st, flags), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int epollCtl(int epfd, int op, int fd, MemorySegment event) {
        int f = injected("epoll_ctl");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) EPOLL_CTL.invokeExact(st, epfd, op, fd, event), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int epollWait(int epfd, MemorySegment events, int max, int timeoutMs) {
        int f = injected("epoll_wait");
        if (f != 0) {
            return f;
        }
        int r;
        try {
            r = (int) EPOLL_WAIT_PLAIN.invokeExact(epfd, events, max, timeoutMs);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return r >= 0 ? r : epollWaitFailed(epfd, events, max);
    }

    /** The plain epoll_wait failed: the same wait without blocking, capturing errno (as {@link #ppollFailed}). */
    private static int epollWaitFailed(int epfd, MemorySegment events, int max) {
        MemorySegment st = state();
        try {
            return ret((int) EPOLL_WAIT.invokeExact(st, epfd, events, max, 0), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- raw system calls (io_uring, Linux AIO) -----------------------------------------

    /**
     * {@code syscall(nr, a1..a6)}; unused arguments are passed as 0 (the kernel ignores
     * them). {@code blocking} selects the non-critical handle for calls that may sleep.
     */
    static long syscall(String call, boolean blocking, long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
        int f = injected(call);
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            long r = blocking
                    ? (long) SYSCALL_BLOCKING.invokeExact(st, nr, a1, a2, a3, a4, a5, a6)
                    : (long) SYSCALL_SHORT.invokeExact(st, nr, a1, a2, a3, a4, a5, a6);
            return ret(r, st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code io_uring_enter(fd, toSubmit, minComplete, flags, NULL, 0)}, the loop's hot call:
     * the plain handle first. The kernel returns -1 only when it consumed no SQE, so on -1
     * the call is made again through the capturing handle, without waiting (no
     * {@code IORING_ENTER_GETEVENTS}, {@code minComplete} 0): a lasting error comes back with
     * its errno; an interrupted wait (EINTR) comes back as the count of SQEs this second call
     * consumed, and the caller, which waits until {@code minComplete} completions are there,
     * waits again.
     */
    static long ioUringEnter(int fd, int toSubmit, int minComplete, int flags, boolean blocking) {
        int f = injected("io_uring_enter");
        if (f != 0) {
            return f;
        }
        long r;
        try {
            r = blocking
                    ? (long) SYSCALL_BLOCKING_PLAIN.invokeExact(SYS_IO_URING_ENTER, (long) fd, (long) toSubmit,
                            (long) minComplete, (long) flags, 0L, 0L)
                    : (long) SYSCALL_SHORT_PLAIN.invokeExact(SYS_IO_URING_ENTER, (long) fd, (long) toSubmit,
                            (long) minComplete, (long) flags, 0L, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return r >= 0 ? r : ioUringEnterFailed(fd, toSubmit, flags);
    }

    private static long ioUringEnterFailed(int fd, int toSubmit, int flags) {
        MemorySegment st = state();
        try {
            return ret((long) SYSCALL_SHORT.invokeExact(st, SYS_IO_URING_ENTER, (long) fd, (long) toSubmit, 0L,
                    (long) (flags & ~IORING_ENTER_GETEVENTS), 0L, 0L), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** mmap: the address, or -errno (MAP_FAILED is (void *) -1). */
    static long mmap(long addr, long len, int prot, int flags, int fd, long offset) {
        int f = injected("mmap");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            long r = (long) MMAP.invokeExact(st, addr, len, prot, flags, fd, offset);
            return r == -1L ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int munmap(long addr, long len) {
        MemorySegment st = state();
        try {
            return ret((int) MUNMAP.invokeExact(st, addr, len), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- files ---------------------------------------------------------------------------

    static int open(MemorySegment path, int flags, int mode) {
        int f = injected("open");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) OPEN.invokeExact(st, path, flags, mode), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long pread(int fd, MemorySegment buf, long len, long offset) {
        if (Faults.armed()) {
            long c = Faults.check("pread", len);
            if (c < 0) {
                return c;
            }
            len = c;
        }
        MemorySegment st = state();
        try {
            return ret((long) PREAD.invokeExact(st, fd, buf, len, offset), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long pwrite(int fd, MemorySegment buf, long len, long offset) {
        if (Faults.armed()) {
            long c = Faults.check("pwrite", len);
            if (c < 0) {
                return c;
            }
            len = c;
        }
        MemorySegment st = state();
        try {
            return ret((long) PWRITE.invokeExact(st, fd, buf, len, offset), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long preadv(int fd, long iov, int iovcnt, long offset) {
        return vectored("preadv", PREADV, fd, iov, iovcnt, offset);
    }

    static long pwritev(int fd, long iov, int iovcnt, long offset) {
        return vectored("pwritev", PWRITEV, fd, iov, iovcnt, offset);
    }

    private static long vectored(String call, MethodHandle mh, int fd, long iov, int iovcnt, long offset) {
        int cnt = iovcnt;
        int trimmed = -1;
        long savedLen = 0;
        if (Faults.armed()) {
            long total = 0;
            for (int i = 0; i < iovcnt; i++) {
                total += ALL.get(JAVA_LONG, iov + 16L * i + 8);
            }
            long c = Faults.check(call, total);
            if (c < 0) {
                return c;
            }
            if (c < total) {
                // Cap: keep whole iovecs while they fit, shorten the one that crosses the cap.
                long left = c;
                int i = 0;
                while (i < iovcnt) {
                    long l = ALL.get(JAVA_LONG, iov + 16L * i + 8);
                    if (l >= left) {
                        break;
                    }
                    left -= l;
                    i++;
                }
                trimmed = i;
                savedLen = ALL.get(JAVA_LONG, iov + 16L * i + 8);
                ALL.set(JAVA_LONG, iov + 16L * i + 8, left);
                cnt = i + 1;
            }
        }
        MemorySegment st = state();
        try {
            return ret((long) mh.invokeExact(st, fd, iov, cnt, offset), st);
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            if (trimmed >= 0) {
                ALL.set(JAVA_LONG, iov + 16L * trimmed + 8, savedLen);
            }
        }
    }

    static int fdatasync(int fd) {
        int f = injected("fdatasync");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) FDATASYNC.invokeExact(st, fd), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int ftruncate(int fd, long size) {
        int f = injected("ftruncate");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) FTRUNCATE.invokeExact(st, fd, size), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int fallocate(int fd, int mode, long offset, long len) {
        int f = injected("fallocate");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) FALLOCATE.invokeExact(st, fd, mode, offset, len), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long lseek(int fd, long offset, int whence) {
        int f = injected("lseek");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((long) LSEEK.invokeExact(st, fd, offset, whence), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int statx(int dirfd, MemorySegment path, int flags, int mask, MemorySegment buf) {
        int f = injected("statx");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) STATX.invokeExact(st, dirfd, path, flags, mask, buf), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int ioctl(int fd, long request, MemorySegment arg) {
        int f = injected("ioctl");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) IOCTL.invokeExact(st, fd, request, arg), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- sockets -------------------------------------------------------------------------

    static int socket(int domain, int type, int protocol) {
        int f = injected("socket");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) SOCKET.invokeExact(st, domain, type, protocol), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int setsockopt(int fd, int level, int name, MemorySegment value, int len) {
        int f = injected("setsockopt");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) SETSOCKOPT.invokeExact(st, fd, level, name, value, len), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int bind(int fd, MemorySegment addr, int len) {
        int f = injected("bind");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) BIND.invokeExact(st, fd, addr, len), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int listen(int fd, int backlog) {
        int f = injected("listen");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) LISTEN.invokeExact(st, fd, backlog), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int getsockname(int fd, MemorySegment addr, MemorySegment lenPtr) {
        int f = injected("getsockname");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) GETSOCKNAME.invokeExact(st, fd, addr, lenPtr), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int getpeername(int fd, MemorySegment addr, MemorySegment lenPtr) {
        int f = injected("getpeername");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) GETPEERNAME.invokeExact(st, fd, addr, lenPtr), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int accept4(int fd, int flags) {
        int f = injected("accept4");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) ACCEPT4.invokeExact(st, fd, MemorySegment.NULL, MemorySegment.NULL, flags), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int connect(int fd, MemorySegment addr, int len) {
        int f = injected("connect");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) CONNECT.invokeExact(st, fd, addr, len), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int shutdown(int fd, int how) {
        int f = injected("shutdown");
        if (f != 0) {
            return f;
        }
        MemorySegment st = state();
        try {
            return ret((int) SHUTDOWN.invokeExact(st, fd, how), st);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
