package org.aiolos.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.aiolos.api.diskio.DiskFile;

/**
 * File operations for the disk-I/O engines: open (with {@code O_DIRECT}), positional and
 * vectored reads and writes, fdatasync, ftruncate, fallocate, size, and the direct-I/O
 * alignment.
 *
 * <p>Return convention for reads and writes: {@code n ≥ 0}, or {@code -EINTR} /
 * {@code -EAGAIN}; every other failure throws {@link SyscallException}.
 */
public final class Files {
    // asm-generic/fcntl.h (x86-64 values)
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0x40;      // 00000100
    public static final int O_EXCL = 0x80;       // 00000200
    public static final int O_TRUNC = 0x200;     // 00001000
    public static final int O_DSYNC = 0x1000;    // 00010000
    public static final int O_DIRECT = 0x4000;   // 00040000
    public static final int O_CLOEXEC = 0x80000; // 02000000
    // linux/falloc.h
    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    public static final int FALLOC_FL_ZERO_RANGE = 0x10;
    // linux/fcntl.h
    private static final int AT_EMPTY_PATH = 0x1000;
    // linux/stat.h
    private static final int STATX_TYPE = 0x1;
    private static final int STATX_MODE = 0x2;
    private static final int STATX_SIZE = 0x200;
    private static final int STATX_DIOALIGN = 0x2000;
    private static final int S_IFMT = 0xF000;    // 0170000
    private static final int S_IFBLK = 0x6000;   // 0060000
    // struct statx (256 bytes) field offsets
    private static final long STATX_BUF_SIZE = 256;
    private static final long STX_MASK = 0;
    private static final long STX_MODE = 28;
    private static final long STX_SIZE = 40;
    private static final long STX_DIO_MEM_ALIGN = 152;
    private static final long STX_DIO_OFFSET_ALIGN = 156;
    // linux/fs.h: BLKSSZGET = _IO(0x12, 104)
    private static final long BLKSSZGET = 0x1268;
    private static final long FALLBACK_ALIGNMENT = 4096;

    private Files() {
    }

    /**
     * {@code open(path, flags, mode)}; {@code O_CLOEXEC} is always added.
     *
     * @return the descriptor
     */
    public static int open(String path, int flags, int mode) {
        if (path == null || path.isEmpty()) {
            throw new IllegalArgumentException("path must not be empty");
        }
        if (mode < 0 || mode > 07777) {
            throw new IllegalArgumentException("mode must be in [0, 07777], got 0" + Integer.toOctalString(mode));
        }
        try (Arena a = Arena.ofConfined()) {
            int r = Native.open(a.allocateFrom(path), flags | O_CLOEXEC, mode);
            if (r < 0) {
                throw new SyscallException("open", path + ", flags 0x" + Integer.toHexString(flags), -r);
            }
            return r;
        }
    }

    private static void checkOffset(long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0, got " + offset);
        }
    }

    private static long result(String call, long r, int fd, long len, long offset) {
        if (r >= 0 || r == -Errno.EINTR || r == -Errno.EAGAIN) {
            return r;
        }
        throw new SyscallException(call, "fd " + fd + ", " + len + " bytes at " + offset, (int) -r);
    }

    /** Reads up to {@code len} bytes at {@code offset}: n ≥ 0 (0 at EOF), or -EINTR / -EAGAIN. */
    public static long pread(int fd, MemorySegment buf, long len, long offset) {
        Fds.checkReadTarget(buf, len);
        checkOffset(offset);
        return result("pread", Native.pread(fd, buf, len, offset), fd, len, offset);
    }

    /** Writes up to {@code len} bytes at {@code offset}: n ≥ 0, or -EINTR / -EAGAIN. */
    public static long pwrite(int fd, MemorySegment buf, long len, long offset) {
        Fds.checkBuffer(buf, len);
        checkOffset(offset);
        return result("pwrite", Native.pwrite(fd, buf, len, offset), fd, len, offset);
    }

    /** Vectored read at {@code offset}: n ≥ 0, or -EINTR / -EAGAIN. */
    public static long preadv(int fd, long iovecAddr, int iovCount, long offset) {
        checkIov(iovecAddr, iovCount);
        checkOffset(offset);
        return result("preadv", Native.preadv(fd, iovecAddr, iovCount, offset), fd, iovCount, offset);
    }

    /** Vectored write at {@code offset}: n ≥ 0, or -EINTR / -EAGAIN. */
    public static long pwritev(int fd, long iovecAddr, int iovCount, long offset) {
        checkIov(iovecAddr, iovCount);
        checkOffset(offset);
        return result("pwritev", Native.pwritev(fd, iovecAddr, iovCount, offset), fd, iovCount, offset);
    }

    private static void checkIov(long addr, int count) {
        if (count < 0 || count > IoVecArray.UIO_MAXIOV) {
            throw new IllegalArgumentException("iovec count must be in [0, " + IoVecArray.UIO_MAXIOV + "], got " + count);
        }
        if (addr == 0 && count > 0) {
            throw new IllegalArgumentException("iovec address is NULL");
        }
    }

    /** {@code fdatasync(fd)}, retried on EINTR. */
    public static void fdatasync(int fd) {
        int r;
        do {
            r = Native.fdatasync(fd);
        } while (r == -Errno.EINTR);
        if (r < 0) {
            throw new SyscallException("fdatasync", "fd " + fd, -r);
        }
    }

    /** {@code ftruncate(fd, size)}, retried on EINTR. */
    public static void ftruncate(int fd, long size) {
        if (size < 0) {
            throw new IllegalArgumentException("size must be >= 0, got " + size);
        }
        int r;
        do {
            r = Native.ftruncate(fd, size);
        } while (r == -Errno.EINTR);
        if (r < 0) {
            throw new SyscallException("ftruncate", "fd " + fd + ", " + size + " bytes", -r);
        }
    }

    /** {@code fallocate(fd, mode, offset, len)} ({@code FALLOC_FL_*} modes), retried on EINTR. */
    public static void fallocate(int fd, int mode, long offset, long len) {
        checkOffset(offset);
        if (len <= 0) {
            throw new IllegalArgumentException("length must be > 0, got " + len);
        }
        int r;
        do {
            r = Native.fallocate(fd, mode, offset, len);
        } while (r == -Errno.EINTR);
        if (r < 0) {
            throw new SyscallException("fallocate", "fd " + fd + ", mode 0x" + Integer.toHexString(mode) + ", "
                    + len + " bytes at " + offset, -r);
        }
    }

    // unistd.h: lseek whence values for sparse files
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;

    /**
     * The first offset at or after {@code offset} that holds data ({@code lseek(SEEK_DATA)}),
     * or -1 when only a hole follows up to the end of the file (ENXIO). A file system that
     * does not track holes reports the whole file as data.
     */
    public static long seekData(int fd, long offset) {
        return seek(fd, offset, SEEK_DATA, "SEEK_DATA");
    }

    /**
     * The first offset at or after {@code offset} in a hole ({@code lseek(SEEK_HOLE)});
     * the end of the file counts as a hole. -1 when {@code offset} is at or past the end (ENXIO).
     */
    public static long seekHole(int fd, long offset) {
        return seek(fd, offset, SEEK_HOLE, "SEEK_HOLE");
    }

    private static long seek(int fd, long offset, int whence, String name) {
        checkOffset(offset);
        long r = Native.lseek(fd, offset, whence);
        if (r == -Errno.ENXIO) {
            return -1;
        }
        if (r < 0) {
            throw new SyscallException("lseek", "fd " + fd + ", " + offset + ", " + name, (int) -r);
        }
        return r;
    }

    /** The file size in bytes ({@code statx(STATX_SIZE)} on the descriptor). */
    public static long size(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(STATX_BUF_SIZE, 8);
            int r = Native.statx(fd, a.allocateFrom(""), AT_EMPTY_PATH, STATX_SIZE, buf);
            if (r < 0) {
                throw new SyscallException("statx", "fd " + fd + ", STATX_SIZE", -r);
            }
            return buf.get(JAVA_LONG, STX_SIZE);
        }
    }

    /**
     * Describes {@code fd} for the disk-I/O engines: whether it has {@code O_DIRECT}
     * ({@code fcntl(F_GETFL)}) and, if so, the alignment {@link #alignment(int)} reports.
     * Two system calls: call it once per open file, not per request.
     */
    public static DiskFile diskFile(int fd) {
        int flags = Native.fcntl("fcntl", fd, Fds.F_GETFL, 0);
        if (flags < 0) {
            throw new SyscallException("fcntl", "F_GETFL, fd " + fd, -flags);
        }
        if ((flags & O_DIRECT) == 0) {
            return DiskFile.buffered(fd);
        }
        DirectIoAlignment a = alignment(fd);
        return new DiskFile(fd, true, a.memoryAlignment(), a.offsetAlignment());
    }

    /**
     * The alignment {@code O_DIRECT} I/O on {@code fd} needs. In order:
     * {@code statx(STATX_DIOALIGN)} when the kernel and filesystem report it (memory and
     * offset alignment may differ); for a block device, its logical block size from
     * {@code ioctl(BLKSSZGET)} for both; otherwise 4096 for both (see {@link DirectIoAlignment}).
     */
    public static DirectIoAlignment alignment(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(STATX_BUF_SIZE, 8);
            int r = Native.statx(fd, a.allocateFrom(""), AT_EMPTY_PATH, STATX_TYPE | STATX_MODE | STATX_DIOALIGN, buf);
            if (r < 0 && r != -Errno.ENOSYS && r != -Errno.EINVAL) {
                throw new SyscallException("statx", "fd " + fd + ", STATX_DIOALIGN", -r);
            }
            if (r >= 0) {
                int mask = buf.get(JAVA_INT, STX_MASK);
                long mem = Integer.toUnsignedLong(buf.get(JAVA_INT, STX_DIO_MEM_ALIGN));
                long off = Integer.toUnsignedLong(buf.get(JAVA_INT, STX_DIO_OFFSET_ALIGN));
                if ((mask & STATX_DIOALIGN) != 0 && mem != 0 && off != 0) {
                    return new DirectIoAlignment(mem, off, "statx");
                }
                int mode = Short.toUnsignedInt(buf.get(JAVA_SHORT, STX_MODE));
                if ((mask & STATX_TYPE) != 0 && (mode & S_IFMT) == S_IFBLK) {
                    MemorySegment size = a.allocate(JAVA_INT);
                    int q = Native.ioctl(fd, BLKSSZGET, size);
                    if (q < 0) {
                        throw new SyscallException("ioctl", "fd " + fd + ", BLKSSZGET", -q);
                    }
                    long lbs = size.get(JAVA_INT, 0);
                    return new DirectIoAlignment(lbs, lbs, "BLKSSZGET");
                }
            }
            return new DirectIoAlignment(FALLBACK_ALIGNMENT, FALLBACK_ALIGNMENT, "fallback");
        }
    }
}
