package org.aiolos.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A reusable native array of {@code struct iocb} ({@code linux/aio_abi.h}, 64 bytes,
 * little-endian field order) plus the {@code struct iocb *} array {@code io_submit} takes.
 * The pointer array starts as the identity (slot i points at iocb i); a submitter that
 * batches iocbs in another order rewrites slots with {@link #setPointer}.
 *
 * <p>Not thread-safe. Buffers and iovecs referenced by an iocb must stay alive until its
 * completion is reaped.
 */
public final class IocbArray implements AutoCloseable {
    // linux/aio_abi.h: enum IOCB_CMD_*
    public static final int IOCB_CMD_PREAD = 0;
    public static final int IOCB_CMD_PWRITE = 1;
    public static final int IOCB_CMD_FSYNC = 2;
    public static final int IOCB_CMD_FDSYNC = 3;
    public static final int IOCB_CMD_PREADV = 7;
    public static final int IOCB_CMD_PWRITEV = 8;
    // linux/aio_abi.h
    public static final int IOCB_FLAG_RESFD = 1;
    // linux/fs.h: RWF_* (for rwFlags)
    public static final int RWF_HIPRI = 0x1;
    public static final int RWF_DSYNC = 0x2;
    public static final int RWF_SYNC = 0x4;
    public static final int RWF_NOWAIT = 0x8;

    static final long IOCB_SIZE = 64;
    private static final long AIO_DATA = 0;
    private static final long AIO_RW_FLAGS = 12;   // after the 4-byte aio_key on little-endian
    private static final long AIO_LIO_OPCODE = 16;
    private static final long AIO_REQPRIO = 18;
    private static final long AIO_FILDES = 20;
    private static final long AIO_BUF = 24;
    private static final long AIO_NBYTES = 32;
    private static final long AIO_OFFSET = 40;
    private static final long AIO_FLAGS = 56;
    private static final long AIO_RESFD = 60;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment iocbs;
    private final MemorySegment pointers;
    private final int capacity;
    private boolean closed;

    /** {@code capacity} zeroed iocbs and an identity pointer array. */
    public IocbArray(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("iocb capacity must be > 0, got " + capacity);
        }
        this.capacity = capacity;
        this.iocbs = arena.allocate(IOCB_SIZE * capacity, 8);
        this.pointers = arena.allocate(8L * capacity, 8);
        for (int i = 0; i < capacity; i++) {
            pointers.set(JAVA_LONG, 8L * i, iocbs.address() + IOCB_SIZE * i);
        }
    }

    /** Number of iocbs. */
    public int capacity() {
        return capacity;
    }

    /** The {@code struct iocb *[]} for {@link LinuxAio#submit}. */
    public MemorySegment pointers() {
        checkOpen();
        return pointers;
    }

    /** Makes pointer slot {@code slot} name iocb {@code i}. */
    public void setPointer(int slot, int i) {
        checkIndex(slot);
        pointers.set(JAVA_LONG, 8L * slot, address(i));
    }

    /** Native address of iocb {@code i} (the {@code obj} of its completion event). */
    public long address(int i) {
        checkIndex(i);
        return iocbs.address() + IOCB_SIZE * i;
    }

    private void checkIndex(int i) {
        checkOpen();
        if (i < 0 || i >= capacity) {
            throw new IndexOutOfBoundsException("iocb index " + i + " outside [0, " + capacity + ")");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("iocb array closed");
        }
    }

    private void prep(int i, int opcode, int fd, long buf, long nbytes, long offset, long userData, int rwFlags) {
        checkIndex(i);
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0, got " + offset);
        }
        if (nbytes < 0) {
            throw new IllegalArgumentException("length must be >= 0, got " + nbytes);
        }
        long b = IOCB_SIZE * i;
        for (long o = 0; o < IOCB_SIZE; o += 8) {
            iocbs.set(JAVA_LONG, b + o, 0L);
        }
        iocbs.set(JAVA_LONG, b + AIO_DATA, userData);
        iocbs.set(JAVA_INT, b + AIO_RW_FLAGS, rwFlags);
        iocbs.set(JAVA_SHORT, b + AIO_LIO_OPCODE, (short) opcode);
        iocbs.set(JAVA_SHORT, b + AIO_REQPRIO, (short) 0);
        iocbs.set(JAVA_INT, b + AIO_FILDES, fd);
        iocbs.set(JAVA_LONG, b + AIO_BUF, buf);
        iocbs.set(JAVA_LONG, b + AIO_NBYTES, nbytes);
        iocbs.set(JAVA_LONG, b + AIO_OFFSET, offset);
    }

    /** A vectored read ({@code IOCB_CMD_PREADV}): buf = the iovec array, nbytes = its count. */
    public void prepPreadv(int i, int fd, long iovecAddr, int iovCount, long offset, long userData, int rwFlags) {
        prep(i, IOCB_CMD_PREADV, fd, iovecAddr, iovCount, offset, userData, rwFlags);
    }

    /** A vectored write ({@code IOCB_CMD_PWRITEV}); {@link #RWF_DSYNC} for FUA. */
    public void prepPwritev(int i, int fd, long iovecAddr, int iovCount, long offset, long userData, int rwFlags) {
        prep(i, IOCB_CMD_PWRITEV, fd, iovecAddr, iovCount, offset, userData, rwFlags);
    }

    /** A plain read of {@code len} bytes into {@code bufAddr}. */
    public void prepPread(int i, int fd, long bufAddr, long len, long offset, long userData) {
        prep(i, IOCB_CMD_PREAD, fd, bufAddr, len, offset, userData, 0);
    }

    /** A plain write of {@code len} bytes from {@code bufAddr}. */
    public void prepPwrite(int i, int fd, long bufAddr, long len, long offset, long userData) {
        prep(i, IOCB_CMD_PWRITE, fd, bufAddr, len, offset, userData, 0);
    }

    /** An fdatasync ({@code IOCB_CMD_FDSYNC}). */
    public void prepFdsync(int i, int fd, long userData) {
        prep(i, IOCB_CMD_FDSYNC, fd, 0, 0, 0, userData, 0);
    }

    /** Asks the kernel to signal {@code eventFd} when iocb {@code i} completes ({@code IOCB_FLAG_RESFD}). */
    public void setResfd(int i, int eventFd) {
        checkIndex(i);
        long b = IOCB_SIZE * i;
        iocbs.set(JAVA_INT, b + AIO_FLAGS, iocbs.get(JAVA_INT, b + AIO_FLAGS) | IOCB_FLAG_RESFD);
        iocbs.set(JAVA_INT, b + AIO_RESFD, eventFd);
    }

    /** The user data of iocb {@code i}. */
    public long userData(int i) {
        checkIndex(i);
        return iocbs.get(JAVA_LONG, IOCB_SIZE * i + AIO_DATA);
    }

    /** The opcode of iocb {@code i}. */
    public int opcode(int i) {
        checkIndex(i);
        return iocbs.get(JAVA_SHORT, IOCB_SIZE * i + AIO_LIO_OPCODE);
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
