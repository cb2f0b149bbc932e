package org.aiolos.linux;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * An io_uring instance driven through the raw system calls ({@code io_uring_setup} 425,
 * {@code io_uring_enter} 426, {@code io_uring_register} 427 on x86-64, through libc
 * {@code syscall(2)}), with the SQ ring, CQ ring and SQE array mmap'ed into this process.
 * It backs the io_uring fd monitor (one-shot POLL_ADD, TIMEOUT for ns-precise waits) and
 * the io_uring disk-I/O engine (READV/WRITEV/READ/WRITE/FSYNC).
 *
 * <p>Use: {@link #nextSqe()} gives a zero-filled SQE index, a {@code prep*} method fills
 * it, {@link #submit()} / {@link #submitAndWait(int)} hand the SQEs to the kernel;
 * completions are read with {@link #cqReady()}, {@link #cqeUserData(int)},
 * {@link #cqeRes(int)}, {@link #cqeFlags(int)} and released with {@link #cqAdvance(int)}.
 * CQE results are the raw kernel values (negative errno on failure).
 *
 * <p>Threading: a ring is driven by one thread at a time (QEMU: "rings are only touched in
 * the home thread"). The kernel is the other party; the orderings with it follow
 * io_uring(7):
 * <ul>
 *   <li>SQ tail: written by us with a store-release after the SQE fields (StoreStore:
 *       the kernel must see filled SQEs before it sees the new tail);</li>
 *   <li>SQ head: written by the kernel, read by us with a load-acquire (we may reuse an SQE
 *       slot only after the kernel has consumed it);</li>
 *   <li>CQ tail: written by the kernel, read by us with a load-acquire (LoadLoad: the CQE
 *       contents are read after the tail that published them);</li>
 *   <li>CQ head: written by us with a store-release after reading the CQEs (the kernel
 *       may overwrite a CQE slot only after we are done with it).</li>
 * </ul>
 *
 * <p>Unsupported setup flags: {@code IORING_SETUP_SQPOLL} (submission here assumes the
 * calling thread consumes SQEs in io_uring_enter) and {@code IORING_SETUP_CQSIZE}
 * (needs a CQ size argument); both are refused with IllegalArgumentException.
 */
public final class IoUring implements AutoCloseable {
    // linux/io_uring.h: enum io_uring_op
    public static final int IORING_OP_NOP = 0;
    public static final int IORING_OP_READV = 1;
    public static final int IORING_OP_WRITEV = 2;
    public static final int IORING_OP_FSYNC = 3;
    public static final int IORING_OP_POLL_ADD = 6;
    public static final int IORING_OP_POLL_REMOVE = 7;
    public static final int IORING_OP_TIMEOUT = 11;
    public static final int IORING_OP_READ = 22;
    public static final int IORING_OP_WRITE = 23;
    // linux/io_uring.h: setup flags
    public static final int IORING_SETUP_IOPOLL = 1;
    public static final int IORING_SETUP_SQPOLL = 1 << 1;
    public static final int IORING_SETUP_CQSIZE = 1 << 3;
    public static final int IORING_SETUP_SQE128 = 1 << 10;
    public static final int IORING_SETUP_CQE32 = 1 << 11;
    // linux/io_uring.h: sqe->flags
    public static final int IOSQE_IO_DRAIN = 1 << 1;
    public static final int IOSQE_IO_LINK = 1 << 2;
    public static final int IOSQE_ASYNC = 1 << 4;
    // linux/io_uring.h: misc
    public static final int IORING_FSYNC_DATASYNC = 1;
    public static final int IORING_TIMEOUT_ABS = 1;
    public static final int IORING_POLL_ADD_MULTI = 1;
    public static final int IORING_CQE_F_MORE = 1 << 1;
    public static final int IORING_FEAT_SINGLE_MMAP = 1;
    public static final int IORING_FEAT_NODROP = 1 << 1;
    public static final int IORING_SQ_NEED_WAKEUP = 1;
    public static final int IORING_SQ_CQ_OVERFLOW = 1 << 1;
    public static final int IORING_ENTER_GETEVENTS = 1;
    public static final int IORING_REGISTER_EVENTFD = 4;
    public static final int IORING_UNREGISTER_EVENTFD = 5;
    public static final int IORING_REGISTER_SYNC_CANCEL = 24;
    // linux/io_uring.h: cancellation keys (IORING_ASYNC_CANCEL_OP since Linux 6.6)
    public static final int IORING_ASYNC_CANCEL_ALL = 1;
    public static final int IORING_ASYNC_CANCEL_FD = 1 << 1;
    public static final int IORING_ASYNC_CANCEL_ANY = 1 << 2;
    public static final int IORING_ASYNC_CANCEL_USERDATA = 1 << 4;
    public static final int IORING_ASYNC_CANCEL_OP = 1 << 5;
    // struct io_uring_sync_cancel_reg: addr, fd, flags, timeout, opcode (Linux 6.6+; padding
    // before), padding; 64 bytes. A timeout of {-1, -1} means none.
    private static final long SC_ADDR = 0;
    private static final long SC_FD = 8;
    private static final long SC_FLAGS = 12;
    private static final long SC_TIMEOUT_SEC = 16;
    private static final long SC_TIMEOUT_NSEC = 24;
    private static final long SC_OPCODE = 32;
    private static final long SC_SIZE = 64;
    /** linux/io_uring.h: IORING_MAX_ENTRIES is in io_uring/io_uring.c: 32768. */
    private static final int MAX_ENTRIES = 32768;
    // linux/io_uring.h: mmap offsets
    private static final long IORING_OFF_SQ_RING = 0L;
    private static final long IORING_OFF_CQ_RING = 0x8000000L;
    private static final long IORING_OFF_SQES = 0x10000000L;
    // asm-generic/mman-common.h, linux/mman.h
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_SHARED = 1;
    private static final int MAP_POPULATE = 0x8000;

    // struct io_uring_params (120 bytes)
    private static final int PARAMS_SIZE = 120;
    private static final long P_SQ_ENTRIES = 0;
    private static final long P_CQ_ENTRIES = 4;
    private static final long P_FLAGS = 8;
    private static final long P_FEATURES = 20;
    private static final long P_SQ_OFF = 40;   // struct io_sqring_offsets
    private static final long P_CQ_OFF = 80;   // struct io_cqring_offsets
    // struct io_uring_sqe field offsets
    private static final long SQE_OPCODE = 0;
    private static final long SQE_FLAGS = 1;
    private static final long SQE_IOPRIO = 2;
    private static final long SQE_FD = 4;
    private static final long SQE_OFF = 8;
    private static final long SQE_ADDR = 16;
    private static final long SQE_LEN = 24;
    private static final long SQE_OP_FLAGS = 28; // rw_flags, fsync_flags, poll32_events, timeout_flags
    private static final long SQE_USER_DATA = 32;
    // struct io_uring_cqe field offsets
    private static final long CQE_USER_DATA = 0;
    private static final long CQE_RES = 8;
    private static final long CQE_FLAGS = 12;

    /** Int access with acquire/release modes on the shared rings; coordinates (segment, offset). */
    private static final VarHandle INT = JAVA_INT.varHandle();

    private final int fd;
    private final int features;
    private final int setupFlags;
    private final Arena arena;
    private final long sqRingAddr;
    private final long sqRingSize;
    private final long cqRingAddr;   // == sqRingAddr with IORING_FEAT_SINGLE_MMAP
    private final long cqRingSize;   // 0 when shared with the SQ ring mapping
    private final long sqesAddr;
    private final long sqesSize;
    private final MemorySegment sqRing;
    private final MemorySegment cqRing;
    private final MemorySegment sqes;
    /** One __kernel_timespec per SQE slot for {@link #prepTimeoutNs}. */
    private final MemorySegment timespecs;
    /** The io_uring_sync_cancel_reg of {@link #cancelSync}, reused (the driving thread's). */
    private final MemorySegment syncCancel;
    private final int sqEntries;
    private final int sqMask;
    private final int cqEntries;
    private final int cqMask;
    private final long sqeSize;
    private final long cqeSize;
    private final long sqHeadOff;
    private final long sqTailOff;
    private final long sqFlagsOff;
    private final long sqDroppedOff;
    private final long cqHeadOff;
    private final long cqTailOff;
    private final long cqOverflowOff;
    private final long cqesOff;
    /** Our private SQ tail: SQEs handed out by nextSqe(); published by submit(). */
    private int sqeTail;
    private boolean closed;

    private IoUring(int fd, int features, int setupFlags, Arena arena, long sqRingAddr, long sqRingSize,
                    long cqRingAddr, long cqRingSize, long sqesAddr, long sqesSize, MemorySegment params) {
        this.fd = fd;
        this.features = features;
        this.setupFlags = setupFlags;
        this.arena = arena;
        this.sqRingAddr = sqRingAddr;
        this.sqRingSize = sqRingSize;
        this.cqRingAddr = cqRingAddr;
        this.cqRingSize = cqRingSize;
        this.sqesAddr = sqesAddr;
        this.sqesSize = sqesSize;
        this.sqEntries = params.get(JAVA_INT, P_SQ_ENTRIES);
        this.cqEntries = params.get(JAVA_INT, P_CQ_ENTRIES);
        this.sqeSize = (setupFlags & IORING_SETUP_SQE128) != 0 ? 128 : 64;
        this.cqeSize = (setupFlags & IORING_SETUP_CQE32) != 0 ? 32 : 16;
        // The segments are bound to our arena: after close() any access fails cleanly
        // instead of touching unmapped memory.
        this.sqRing = MemorySegment.ofAddress(sqRingAddr).reinterpret(sqRingSize, arena, null);
        this.cqRing = MemorySegment.ofAddress(cqRingAddr)
                .reinterpret(cqRingSize == 0 ? sqRingSize : cqRingSize, arena, null);
        this.sqes = MemorySegment.ofAddress(sqesAddr).reinterpret(sqesSize, arena, null);
        this.timespecs = arena.allocate(16L * sqEntries, 8);
        this.syncCancel = arena.allocate(SC_SIZE, 8);
        this.sqHeadOff = params.get(JAVA_INT, P_SQ_OFF) & 0xffffffffL;
        this.sqTailOff = params.get(JAVA_INT, P_SQ_OFF + 4) & 0xffffffffL;
        this.sqMask = sqRing.get(JAVA_INT, params.get(JAVA_INT, P_SQ_OFF + 8) & 0xffffffffL);
        this.sqFlagsOff = params.get(JAVA_INT, P_SQ_OFF + 16) & 0xffffffffL;
        this.sqDroppedOff = params.get(JAVA_INT, P_SQ_OFF + 20) & 0xffffffffL;
        long sqArrayOff = params.get(JAVA_INT, P_SQ_OFF + 24) & 0xffffffffL;
        this.cqHeadOff = params.get(JAVA_INT, P_CQ_OFF) & 0xffffffffL;
        this.cqTailOff = params.get(JAVA_INT, P_CQ_OFF + 4) & 0xffffffffL;
        this.cqMask = cqRing.get(JAVA_INT, params.get(JAVA_INT, P_CQ_OFF + 8) & 0xffffffffL);
        this.cqOverflowOff = params.get(JAVA_INT, P_CQ_OFF + 16) & 0xffffffffL;
        this.cqesOff = params.get(JAVA_INT, P_CQ_OFF + 20) & 0xffffffffL;
        // Identity-map the SQ index array once: slot i of the ring always names SQE i, so
        // submission only has to move the tail.
        for (int i = 0; i < sqEntries; i++) {
            sqRing.set(JAVA_INT, sqArrayOff + 4L * i, i);
        }
        this.sqeTail = (int) INT.getAcquire(sqRing, sqTailOff);
    }

    /**
     * The features every Aiolos ring relies on: NODROP (Linux 5.5), so a full CQ parks
     * completions instead of losing one (a lost POLL_ADD completion is a lost event; a lost
     * read completion a request that never ends). It comes with TIMEOUT (5.4) and
     * POLL_REMOVE (5.1). SINGLE_MMAP is optional: the rings are mapped separately without it.
     */
    public static final int REQUIRED_FEATURES = IORING_FEAT_NODROP;

    /**
     * {@link #open} with {@link #REQUIRED_FEATURES} checked: the ring both io_uring
     * backends (fd monitor and disk engine) run on.
     *
     * @throws SyscallException naming {@code io_uring_setup} or {@code mmap}
     * @throws UnsupportedOperationException if the kernel lacks a required feature, saying
     *         which and the kernel needed
     */
    public static IoUring openWithRequiredFeatures(int entries) {
        IoUring ring = open(entries, 0);
        if ((ring.features() & REQUIRED_FEATURES) != REQUIRED_FEATURES) {
            int features = ring.features();
            ring.close();
            throw new UnsupportedOperationException("io_uring lacks IORING_FEAT_NODROP (features 0x"
                    + Integer.toHexString(features) + "); Linux 5.5 or newer is needed");
        }
        return ring;
    }

    /**
     * Whether io_uring works here: a two-entry ring with {@link #REQUIRED_FEATURES}, set up
     * and closed at once. Unavailable when the {@code kernel.io_uring_disabled} sysctl or
     * seccomp refuses it, the kernel is too old, or memory is short.
     */
    public static Availability probe() {
        try (IoUring ring = openWithRequiredFeatures(2)) {
            return Availability.AVAILABLE;
        } catch (SyscallException e) {
            return Availability.failed(e);
        } catch (UnsupportedOperationException e) {
            return Availability.unavailable(e.getMessage(), e);
        }
    }

    /**
     * Sets up a ring with at least {@code entries} SQEs (the kernel rounds up to a power of
     * two; the CQ gets twice as many) and maps it.
     *
     * @throws SyscallException naming {@code io_uring_setup} (e.g. ENOMEM, EPERM when
     *                          io_uring is disabled, ENOSYS on old kernels) or {@code mmap}
     */
    public static IoUring open(int entries, int flags) {
        if (entries < 1 || entries > MAX_ENTRIES) {
            throw new IllegalArgumentException("io_uring entries must be in [1, " + MAX_ENTRIES + "], got " + entries);
        }
        if ((flags & (IORING_SETUP_SQPOLL | IORING_SETUP_CQSIZE)) != 0) {
            throw new IllegalArgumentException("IORING_SETUP_SQPOLL and IORING_SETUP_CQSIZE are not supported, flags 0x"
                    + Integer.toHexString(flags));
        }
        Arena arena = Arena.ofShared();
        int fd = -1;
        long sqAddr = 0;
        long sqSize = 0;
        long cqAddr = 0;
        long cqSize = 0;
        long sqesAddr = 0;
        long sqesSize = 0;
        boolean ok = false;
        try {
            MemorySegment p = arena.allocate(PARAMS_SIZE, 8);
            p.set(JAVA_INT, P_FLAGS, flags);
            long r = Native.syscall("io_uring_setup", false, Native.SYS_IO_URING_SETUP, entries, p.address(), 0, 0, 0, 0);
            if (r < 0) {
                throw new SyscallException("io_uring_setup", entries + " entries, flags 0x" + Integer.toHexString(flags), (int) -r);
            }
            fd = (int) r;
            int sqEntries = p.get(JAVA_INT, P_SQ_ENTRIES);
            int cqEntries = p.get(JAVA_INT, P_CQ_ENTRIES);
            int features = p.get(JAVA_INT, P_FEATURES);
            long cqeSize = (flags & IORING_SETUP_CQE32) != 0 ? 32 : 16;
            long sqeSize = (flags & IORING_SETUP_SQE128) != 0 ? 128 : 64;
            sqSize = (p.get(JAVA_INT, P_SQ_OFF + 24) & 0xffffffffL) + 4L * sqEntries;
            long cqNeed = (p.get(JAVA_INT, P_CQ_OFF + 20) & 0xffffffffL) + cqeSize * cqEntries;
            boolean single = (features & IORING_FEAT_SINGLE_MMAP) != 0;
            if (single) {
                sqSize = Math.max(sqSize, cqNeed);
            }
            sqAddr = map(sqSize, fd, IORING_OFF_SQ_RING, "SQ ring");
            if (single) {
                cqAddr = sqAddr;
            } else {
                cqSize = cqNeed;
                cqAddr = map(cqSize, fd, IORING_OFF_CQ_RING, "CQ ring");
            }
            sqesSize = sqeSize * sqEntries;
            sqesAddr = map(sqesSize, fd, IORING_OFF_SQES, "SQEs");
            IoUring ring = new IoUring(fd, features, flags, arena, sqAddr, sqSize, cqAddr, cqSize, sqesAddr, sqesSize, p);
            ok = true;
            return ring;
        } finally {
            if (!ok) {
                arena.close();
                if (sqesAddr != 0) {
                    Native.munmap(sqesAddr, sqesSize);
                }
                if (cqSize != 0 && cqAddr != 0) {
                    Native.munmap(cqAddr, cqSize);
                }
                if (sqAddr != 0) {
                    Native.munmap(sqAddr, sqSize);
                }
                if (fd >= 0) {
                    Fds.close(fd);
                }
            }
        }
    }

    private static long map(long size, int fd, long offset, String what) {
        long a = Native.mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
        if (a < 0) {
            throw new SyscallException("mmap", what + ", " + size + " bytes, io_uring fd " + fd, (int) -a);
        }
        return a;
    }

    /** The ring's descriptor (readable when CQEs are ready, so it can be polled). */
    public int fd() {
        return fd;
    }

    /** The {@code IORING_FEAT_*} bits the kernel reported. */
    public int features() {
        return features;
    }

    /** Number of SQ entries (a power of two). */
    public int sqEntries() {
        return sqEntries;
    }

    /** Number of CQ entries (twice the SQ entries by default). */
    public int cqEntries() {
        return cqEntries;
    }

    /** Free SQE slots: entries minus those handed out and not yet consumed by the kernel. */
    public int sqSpaceLeft() {
        checkOpen();
        // Acquire: once we see the kernel's head move, it is done reading those SQEs.
        int head = (int) INT.getAcquire(sqRing, sqHeadOff);
        return sqEntries - (sqeTail - head);
    }

    /** SQEs handed out by {@link #nextSqe()} and not yet consumed by the kernel. */
    public int sqPending() {
        return sqEntries - sqSpaceLeft();
    }

    /**
     * Takes the next free SQE, zero-filled.
     *
     * @return its index (for the {@code prep*} methods), or -1 if the SQ is full (submit first)
     */
    public long nextSqe() {
        if (sqSpaceLeft() == 0) {
            return -1;
        }
        int idx = sqeTail & sqMask;
        long base = idx * sqeSize;
        for (long o = 0; o < sqeSize; o += 8) {
            sqes.set(JAVA_LONG, base + o, 0L);
        }
        sqeTail++;
        return idx;
    }

    private long sqeBase(long sqe) {
        if (sqe < 0 || sqe >= sqEntries) {
            throw new IllegalArgumentException("SQE index " + sqe + " outside [0, " + sqEntries + ")");
        }
        return sqe * sqeSize;
    }

    private void prepRw(int op, long sqe, int fd, long addr, int len, long offset, int opFlags, long userData) {
        long b = sqeBase(sqe);
        sqes.set(JAVA_BYTE, b + SQE_OPCODE, (byte) op);
        sqes.set(JAVA_BYTE, b + SQE_FLAGS, (byte) 0);
        sqes.set(JAVA_SHORT, b + SQE_IOPRIO, (short) 0);
        sqes.set(JAVA_INT, b + SQE_FD, fd);
        sqes.set(JAVA_LONG, b + SQE_OFF, offset);
        sqes.set(JAVA_LONG, b + SQE_ADDR, addr);
        sqes.set(JAVA_INT, b + SQE_LEN, len);
        sqes.set(JAVA_INT, b + SQE_OP_FLAGS, opFlags);
        sqes.set(JAVA_LONG, b + SQE_USER_DATA, userData);
    }

    /** Sets {@code IOSQE_*} flags (link, drain, async) on a prepared SQE. */
    public void setSqeFlags(long sqe, int iosqeFlags) {
        sqes.set(JAVA_BYTE, sqeBase(sqe) + SQE_FLAGS, (byte) iosqeFlags);
    }

    /** A no-op; completes with res 0. */
    public void prepNop(long sqe, long userData) {
        prepRw(IORING_OP_NOP, sqe, -1, 0, 0, 0, 0, userData);
    }

    /**
     * A one-shot poll for {@code pollMask} (poll bits) on {@code fd}; completes with the
     * ready revents as res.
     */
    public void prepPollAdd(long sqe, int fd, int pollMask, long userData) {
        // poll32_events: native order on little-endian x86-64 (word-swapped only on BE).
        prepRw(IORING_OP_POLL_ADD, sqe, fd, 0, 0, 0, pollMask, userData);
    }

    /**
     * Cancels the POLL_ADD whose user data is {@code targetUserData}; this SQE completes
     * with 0, or -ENOENT / -EALREADY, and the cancelled poll with -ECANCELED.
     */
    public void prepPollRemove(long sqe, long targetUserData, long userData) {
        prepRw(IORING_OP_POLL_REMOVE, sqe, -1, targetUserData, 0, 0, 0, userData);
    }

    /**
     * A timeout that completes after {@code count} other completions or when the
     * {@code struct __kernel_timespec} at {@code kernelTimespec} expires (res -ETIME). The
     * timespec must stay valid until submission.
     */
    public void prepTimeout(long sqe, MemorySegment kernelTimespec, int count, int flags, long userData) {
        if (kernelTimespec.byteSize() < 16) {
            throw new IllegalArgumentException("a __kernel_timespec needs 16 bytes, got " + kernelTimespec.byteSize());
        }
        if (count < 0) {
            throw new IllegalArgumentException("timeout count must be >= 0, got " + count);
        }
        prepRw(IORING_OP_TIMEOUT, sqe, -1, kernelTimespec.address(), 1, count, flags, userData);
    }

    /**
     * {@link #prepTimeout} with a relative nanosecond timeout stored in a timespec slot this
     * ring owns (one per SQE index, so it stays valid until the SQE is reused, which is
     * after submission).
     */
    public void prepTimeoutNs(long sqe, long timeoutNs, int count, long userData) {
        if (timeoutNs < 0) {
            throw new IllegalArgumentException("timeout must be >= 0 ns, got " + timeoutNs);
        }
        long base = sqeBase(sqe);
        long slot = (base / sqeSize) * 16;
        timespecs.set(JAVA_LONG, slot, timeoutNs / 1_000_000_000L);
        timespecs.set(JAVA_LONG, slot + 8, timeoutNs % 1_000_000_000L);
        prepRw(IORING_OP_TIMEOUT, sqe, -1, timespecs.address() + slot, 1, count, 0, userData);
    }

    /** preadv2-like read into {@code iovCount} iovecs at {@code iovecAddr}; res = bytes or -errno. */
    public void prepReadv(long sqe, int fd, long iovecAddr, int iovCount, long offset, int rwFlags, long userData) {
        checkIov(iovCount);
        prepRw(IORING_OP_READV, sqe, fd, iovecAddr, iovCount, offset, rwFlags, userData);
    }

    /** pwritev2-like write from {@code iovCount} iovecs at {@code iovecAddr}; res = bytes or -errno. */
    public void prepWritev(long sqe, int fd, long iovecAddr, int iovCount, long offset, int rwFlags, long userData) {
        checkIov(iovCount);
        prepRw(IORING_OP_WRITEV, sqe, fd, iovecAddr, iovCount, offset, rwFlags, userData);
    }

    /** pread-like read of {@code len} bytes into {@code bufAddr}. */
    public void prepRead(long sqe, int fd, long bufAddr, int len, long offset, long userData) {
        checkLen(len);
        prepRw(IORING_OP_READ, sqe, fd, bufAddr, len, offset, 0, userData);
    }

    /** pwrite-like write of {@code len} bytes from {@code bufAddr}. */
    public void prepWrite(long sqe, int fd, long bufAddr, int len, long offset, long userData) {
        checkLen(len);
        prepRw(IORING_OP_WRITE, sqe, fd, bufAddr, len, offset, 0, userData);
    }

    /** fsync, or fdatasync with {@link #IORING_FSYNC_DATASYNC}. */
    public void prepFsync(long sqe, int fd, int flags, long userData) {
        prepRw(IORING_OP_FSYNC, sqe, fd, 0, 0, 0, flags, userData);
    }

    private static void checkIov(int iovCount) {
        if (iovCount < 0) {
            throw new IllegalArgumentException("iovec count must be >= 0, got " + iovCount);
        }
    }

    private static void checkLen(int len) {
        if (len < 0) {
            throw new IllegalArgumentException("length must be >= 0, got " + len);
        }
    }

    /** Publishes our SQ tail; returns how many SQEs the kernel has yet to consume. */
    private int flushSq() {
        checkOpen();
        // StoreStore (release): the SQE fields written by prep* become visible before the tail.
        INT.setRelease(sqRing, sqTailOff, sqeTail);
        int head = (int) INT.getAcquire(sqRing, sqHeadOff);
        return sqeTail - head;
    }

    /**
     * Publishes the prepared SQEs (store-release of the SQ tail) and submits them with
     * {@code io_uring_enter} without waiting. No syscall when nothing is pending.
     *
     * @return the number of SQEs consumed, or -EINTR / -EAGAIN / -EBUSY as the kernel returned
     */
    public int submit() {
        int toSubmit = flushSq();
        if (toSubmit == 0) {
            return 0;
        }
        return enter(toSubmit, 0, 0);
    }

    /**
     * Publishes and submits the prepared SQEs and waits until at least {@code waitNr}
     * completions are ready (blocking; a non-critical downcall).
     *
     * @return the number of SQEs consumed, or -EINTR / -ETIME / -EBUSY / -EAGAIN as the kernel returned
     */
    public int submitAndWait(int waitNr) {
        if (waitNr < 0) {
            throw new IllegalArgumentException("waitNr must be >= 0, got " + waitNr);
        }
        int toSubmit = flushSq();
        if (toSubmit == 0 && waitNr == 0) {
            return 0;
        }
        return enter(toSubmit, waitNr, waitNr > 0 ? IORING_ENTER_GETEVENTS : 0);
    }

    private int enter(int toSubmit, int minComplete, int flags) {
        boolean blocking = minComplete > 0 && (flags & IORING_ENTER_GETEVENTS) != 0;
        long r = Native.ioUringEnter(fd, toSubmit, minComplete, flags, blocking);
        if (r >= 0 || r == -Errno.EINTR || r == -Errno.ETIME || r == -Errno.EBUSY || r == -Errno.EAGAIN) {
            return (int) r;
        }
        throw new SyscallException("io_uring_enter", "fd " + fd + ", to_submit " + toSubmit + ", min_complete "
                + minComplete + ", flags 0x" + Integer.toHexString(flags), (int) -r);
    }

    /** Number of CQEs ready to read (load-acquire of the CQ tail). */
    public int cqReady() {
        checkOpen();
        // LoadLoad (acquire): CQE contents are read only after this tail load.
        int tail = (int) INT.getAcquire(cqRing, cqTailOff);
        int head = cqRing.get(JAVA_INT, cqHeadOff); // only we write the head
        return tail - head;
    }

    private long cqeBase(int i) {
        if (i < 0 || i >= cqEntries) {
            throw new IllegalArgumentException("CQE position " + i + " outside [0, " + cqEntries + ")");
        }
        int head = cqRing.get(JAVA_INT, cqHeadOff);
        return cqesOff + ((head + i) & cqMask) * cqeSize;
    }

    /** User data of the i-th ready CQE counted from the head (call {@link #cqReady()} first). */
    public long cqeUserData(int i) {
        return cqRing.get(JAVA_LONG, cqeBase(i) + CQE_USER_DATA);
    }

    /** Result of the i-th ready CQE: the raw kernel value (negative errno on failure). */
    public int cqeRes(int i) {
        return cqRing.get(JAVA_INT, cqeBase(i) + CQE_RES);
    }

    /** Flags ({@code IORING_CQE_F_*}) of the i-th ready CQE. */
    public int cqeFlags(int i) {
        return cqRing.get(JAVA_INT, cqeBase(i) + CQE_FLAGS);
    }

    /** Releases {@code n} consumed CQEs to the kernel (store-release of the CQ head). */
    public void cqAdvance(int n) {
        if (n < 0 || n > cqReady()) {
            throw new IllegalArgumentException("cannot advance the CQ by " + n + ": " + cqReady() + " ready");
        }
        int head = cqRing.get(JAVA_INT, cqHeadOff);
        // Release: our reads of those CQEs happen-before the kernel reuses their slots.
        INT.setRelease(cqRing, cqHeadOff, head + n);
    }

    /** True if the kernel holds completions that did not fit in the CQ ({@code IORING_SQ_CQ_OVERFLOW}). */
    public boolean cqOverflowFlagged() {
        checkOpen();
        return ((int) INT.getAcquire(sqRing, sqFlagsOff) & IORING_SQ_CQ_OVERFLOW) != 0;
    }

    /** The kernel's count of CQEs it had to drop (0 with IORING_FEAT_NODROP unless memory ran out). */
    public int cqOverflowCount() {
        checkOpen();
        return (int) INT.getAcquire(cqRing, cqOverflowOff);
    }

    /** The kernel's count of invalid SQ entries it skipped. */
    public int sqDropped() {
        checkOpen();
        return (int) INT.getAcquire(sqRing, sqDroppedOff);
    }

    /**
     * Asks the kernel to move overflowed completions into the CQ
     * ({@code io_uring_enter(0, 0, IORING_ENTER_GETEVENTS)}), as far as there is room.
     *
     * @return ≥ 0, or -EINTR / -EBUSY / -EAGAIN as the kernel returned
     */
    public int flushOverflow() {
        checkOpen();
        return enter(0, 0, IORING_ENTER_GETEVENTS);
    }

    /**
     * Registers an eventfd that the kernel signals on each completion
     * ({@code IORING_REGISTER_EVENTFD}).
     */
    public void registerEventFd(int eventFd) {
        checkOpen();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment arg = a.allocate(JAVA_INT);
            arg.set(JAVA_INT, 0, eventFd);
            register(IORING_REGISTER_EVENTFD, arg.address(), 1, "IORING_REGISTER_EVENTFD, eventfd " + eventFd);
        }
    }

    /** Removes the registered eventfd ({@code IORING_UNREGISTER_EVENTFD}). */
    public void unregisterEventFd() {
        checkOpen();
        register(IORING_UNREGISTER_EVENTFD, 0, 0, "IORING_UNREGISTER_EVENTFD");
    }

    /**
     * Cancels the matching requests before returning ({@code IORING_REGISTER_SYNC_CANCEL},
     * Linux 6.0+): {@code flags} are {@code IORING_ASYNC_CANCEL_*} keys, {@code userData},
     * {@code fd} and {@code opcode} the values they match. A poll request is cancelled at
     * once, and when the caller is the thread that submitted it, the kernel completes it
     * (posting its -ECANCELED CQE and dropping its file) before the call returns to user
     * space; for any other thread that happens on the submitter's next return from the
     * kernel. A thread that never used io_uring cancels nothing (the kernel looks for the
     * requests through the caller's io_uring task context).
     *
     * @return 0 when done (whether or not anything matched), else the negative errno:
     *     -EINVAL when this kernel lacks the call or a key, -EBADF for a closed {@code fd}
     */
    public int cancelSync(int flags, long userData, int fd, int opcode) {
        checkOpen();
        syncCancel.fill((byte) 0);
        syncCancel.set(JAVA_LONG, SC_ADDR, userData);
        syncCancel.set(JAVA_INT, SC_FD, fd);
        syncCancel.set(JAVA_INT, SC_FLAGS, flags);
        syncCancel.set(JAVA_LONG, SC_TIMEOUT_SEC, -1L);
        syncCancel.set(JAVA_LONG, SC_TIMEOUT_NSEC, -1L);
        syncCancel.set(JAVA_BYTE, SC_OPCODE, (byte) opcode);
        long r;
        do {
            r = Native.syscall("io_uring_register", false, Native.SYS_IO_URING_REGISTER, this.fd,
                    IORING_REGISTER_SYNC_CANCEL, syncCancel.address(), 1, 0, 0);
        } while (r == -Errno.EINTR);
        return r == -Errno.ENOENT ? 0 : (int) Math.min(0, r);
    }

    private void register(int opcode, long arg, int nrArgs, String what) {
        long r = Native.syscall("io_uring_register", false, Native.SYS_IO_URING_REGISTER, fd, opcode, arg, nrArgs, 0, 0);
        if (r < 0) {
            throw new SyscallException("io_uring_register", "fd " + fd + ", " + what, (int) -r);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("io_uring closed");
        }
    }

    /** Unmaps the rings, closes the descriptor and frees native memory. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        arena.close(); // invalidates the ring segments before the memory goes away
        Native.munmap(sqesAddr, sqesSize);
        if (cqRingSize != 0) {
            Native.munmap(cqRingAddr, cqRingSize);
        }
        Native.munmap(sqRingAddr, sqRingSize);
        Fds.close(fd);
    }

    @Override
    public String toString() {
        return "IoUring[fd " + fd + ", sq " + sqEntries + ", cq " + cqEntries + ", flags 0x"
                + Integer.toHexString(setupFlags) + (closed ? ", closed]" : "]");
    }
}
