package org.aiolos.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.invoke.VarHandle;

/**
 * Reads Linux AIO completions straight from the kernel's user-space completion ring, the
 * {@code struct aio_ring} an {@code aio_context_t} points at (fs/aio.c), with no system
 * call — what QEMU's linux-aio poll handler and completion processing do.
 *
 * <p>Layout (fs/aio.c, 32-byte header then {@code struct io_event[nr]}): {@code id} 0,
 * {@code nr} 4, {@code head} 8, {@code tail} 12, {@code magic} 16 (0xa10a10a1),
 * {@code compat_features} 20, {@code incompat_features} 24, {@code header_length} 28.
 * The kernel fills an event and then, after {@code smp_wmb()}, moves {@code tail}; we read
 * {@code tail} with a load-acquire (LoadLoad: events are read after the tail that published
 * them) and give slots back with a store-release of {@code head}.
 *
 * <p>If the magic or the incompatible-feature word is not what this code knows, the ring is
 * not trusted: {@link #reap} falls back to {@code io_getevents} with a zero timeout and
 * {@link #hasEvents} answers false (the RESFD eventfd remains the signal). One reaper per
 * context at a time.
 */
public final class UserRing {
    /** fs/aio.c: AIO_RING_MAGIC. */
    public static final int AIO_RING_MAGIC = 0xa10a10a1;
    private static final long NR = 4;
    private static final long HEAD = 8;
    private static final long TAIL = 12;
    private static final long MAGIC = 16;
    private static final long INCOMPAT_FEATURES = 24;
    private static final long HEADER = 32;

    private static final VarHandle INT = JAVA_INT.varHandle();

    private UserRing() {
    }

    private static boolean trusted(long ctx) {
        if (ctx == 0) {
            throw new IllegalArgumentException("aio context is 0");
        }
        return Native.ALL.get(JAVA_INT, ctx + MAGIC) == AIO_RING_MAGIC
                && Native.ALL.get(JAVA_INT, ctx + INCOMPAT_FEATURES) == 0;
    }

    /** True if the ring holds completed events (no system call). */
    public static boolean hasEvents(long ctx) {
        if (!trusted(ctx)) {
            return false;
        }
        int tail = (int) INT.getAcquire(Native.ALL, ctx + TAIL);
        int head = (int) INT.getAcquire(Native.ALL, ctx + HEAD);
        return head != tail;
    }

    /**
     * Moves up to {@code max} completed events into {@code out} (from index 0) and
     * releases their ring slots.
     *
     * @return the number reaped (0 if none), or -EINTR from the io_getevents fallback
     */
    public static int reap(long ctx, IoEventArray out, int max) {
        if (max < 0 || max > out.capacity()) {
            throw new IllegalArgumentException("max " + max + " outside [0, " + out.capacity() + "]");
        }
        if (!trusted(ctx)) {
            return LinuxAio.getEvents(ctx, 0, max, out, 0);
        }
        int nr = Native.ALL.get(JAVA_INT, ctx + NR);
        // The kernel also moves head (in io_getevents), under its lock; read it fresh.
        int head = (int) INT.getAcquire(Native.ALL, ctx + HEAD);
        // Acquire: pairs with the kernel's smp_wmb() before it publishes tail.
        int tail = (int) INT.getAcquire(Native.ALL, ctx + TAIL);
        int n = 0;
        while (head != tail && n < max) {
            out.copyFrom(n++, ctx + HEADER + (long) head * IoEventArray.EVENT_SIZE);
            head = head + 1 == nr ? 0 : head + 1;
        }
        if (n > 0) {
            // Release: our reads of the events complete before the kernel may reuse the slots.
            INT.setRelease(Native.ALL, ctx + HEAD, head);
        }
        return n;
    }
}
