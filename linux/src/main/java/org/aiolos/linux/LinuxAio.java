package org.aiolos.linux;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Linux native AIO ({@code io_setup} 206, {@code io_destroy} 207, {@code io_getevents}
 * 208, {@code io_submit} 209 on x86-64, through libc {@code syscall(2)}): the kernel
 * interface behind QEMU's {@code aio=native} engine. Requests are described by an
 * {@link IocbArray}, completions arrive in an {@link IoEventArray}, and {@link UserRing}
 * reaps them without a system call.
 *
 * <p>The context handle ({@code aio_context_t}) is the user-space address of the kernel's
 * completion ring ({@code struct aio_ring}).
 */
public final class LinuxAio {
    /** Per-thread timespec for io_getevents, so waiting allocates nothing. */
    private static final ThreadLocal<MemorySegment> TIMESPEC =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(16, 8));

    private LinuxAio() {
    }

    /**
     * {@code io_setup(maxEvents, &ctx)}: creates a context able to hold {@code maxEvents}
     * requests in flight (QEMU uses 1024).
     *
     * @return the {@code aio_context_t}
     * @throws SyscallException naming {@code io_setup} (EAGAIN when
     *                          {@code /proc/sys/fs/aio-max-nr} is exhausted, ENOSYS, ...)
     */
    public static long setup(int maxEvents) {
        if (maxEvents <= 0) {
            throw new IllegalArgumentException("maxEvents must be > 0, got " + maxEvents);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ctx = a.allocate(JAVA_LONG); // must be zero on entry
            long r = Native.syscall("io_setup", false, Native.SYS_IO_SETUP, maxEvents, ctx.address(), 0, 0, 0, 0);
            if (r < 0) {
                throw new SyscallException("io_setup", maxEvents + " events", (int) -r);
            }
            return ctx.get(JAVA_LONG, 0);
        }
    }

    /**
     * Whether Linux AIO works here for contexts of {@code maxEvents}: one set up and
     * destroyed at once. Unavailable on ENOSYS (no AIO in the kernel) or EAGAIN
     * ({@code /proc/sys/fs/aio-max-nr} cannot hold one more context; the reason says to raise it).
     */
    public static Availability probe(int maxEvents) {
        try {
            destroy(setup(maxEvents));
            return Availability.AVAILABLE;
        } catch (SyscallException e) {
            return setupFailure(e);
        }
    }

    /** Why an {@code io_setup} that threw leaves Linux AIO unusable, with the remedy for EAGAIN. */
    public static Availability setupFailure(SyscallException e) {
        if (e.errno() == Errno.EAGAIN) {
            return Availability.unavailable(e.call() + " failed: " + Errno.describe(e.errno())
                    + " (raise /proc/sys/fs/aio-max-nr)", e);
        }
        return Availability.failed(e);
    }

    /**
     * {@code io_submit(ctx, n, iocbPtrArray)}: submits the first {@code n} iocbs named by
     * the pointer array (see {@link IocbArray#pointers()}). May block (a non-critical call).
     *
     * @return the number submitted (possibly fewer than {@code n}), or -EAGAIN when the
     *         kernel lacks resources to queue any (retry after completions, as QEMU's
     *         {@code ioq_submit} does); other errors (EBADF, EINVAL for a bad iocb, ...)
     *         throw, and {@link SyscallException#errno()} gives the error QEMU would hand
     *         to the first pending request
     */
    public static int submit(long ctx, int n, MemorySegment iocbPtrArray) {
        if (n < 0 || n * 8L > iocbPtrArray.byteSize()) {
            throw new IllegalArgumentException("cannot submit " + n + " iocbs from a pointer array of "
                    + iocbPtrArray.byteSize() / 8 + " entries");
        }
        if (n == 0) {
            return 0;
        }
        long r = Native.syscall("io_submit", true, Native.SYS_IO_SUBMIT, ctx, n, iocbPtrArray.address(), 0, 0, 0);
        if (r >= 0 || r == -Errno.EAGAIN) {
            return (int) r;
        }
        throw new SyscallException("io_submit", "ctx 0x" + Long.toHexString(ctx) + ", " + n + " iocbs", (int) -r);
    }

    /**
     * {@code io_getevents(ctx, min, max, out, timeout)}: waits until at least {@code min}
     * completions are available or the timeout expires; negative timeout = wait forever,
     * 0 = just collect what is there.
     *
     * @return the number of events stored in {@code out} (from index 0), or -EINTR
     */
    public static int getEvents(long ctx, int min, int max, IoEventArray out, long timeoutNs) {
        if (max < 0 || max > out.capacity() || min < 0 || min > max) {
            throw new IllegalArgumentException("need 0 <= min <= max <= capacity, got min " + min + ", max " + max
                    + ", capacity " + out.capacity());
        }
        long ts = 0;
        if (timeoutNs >= 0) {
            MemorySegment t = TIMESPEC.get();
            t.set(JAVA_LONG, 0, timeoutNs / 1_000_000_000L);
            t.set(JAVA_LONG, 8, timeoutNs % 1_000_000_000L);
            ts = t.address();
        }
        boolean blocking = timeoutNs != 0 && min > 0;
        long r = Native.syscall("io_getevents", blocking, Native.SYS_IO_GETEVENTS, ctx, min, max, out.address(), ts, 0);
        if (r >= 0 || r == -Errno.EINTR) {
            return (int) r;
        }
        throw new SyscallException("io_getevents", "ctx 0x" + Long.toHexString(ctx) + ", min " + min + ", max " + max
                + ", timeout " + timeoutNs + " ns", (int) -r);
    }

    /** {@code io_destroy(ctx)}: cancels what it can, waits for the rest, frees the context. */
    public static void destroy(long ctx) {
        long r = Native.syscall("io_destroy", true, Native.SYS_IO_DESTROY, ctx, 0, 0, 0, 0, 0);
        if (r < 0) {
            throw new SyscallException("io_destroy", "ctx 0x" + Long.toHexString(ctx), (int) -r);
        }
    }
}
