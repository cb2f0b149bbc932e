package org.aiolos.diskio;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;
import org.aiolos.api.diskio.DiskFile;
import org.aiolos.api.diskio.DiskIoEngine;
import org.aiolos.api.diskio.DiskIoEngine.IoCompletion;
import org.aiolos.linux.Errno;

/**
 * One disk request, reused from a {@link DiskRequestPool}: what to do, how far it got,
 * and the native {@code struct iovec[]} describing what is still to transfer. The engine
 * hands {@link #iovAddress()}, {@link #iovCount()} and {@link #position()} to the kernel,
 * feeds the kernel's answer to {@link #onResult(long)}, and either resubmits or
 * completes, so that every engine shares one set of result rules (see
 * {@link DiskIoEngine}).
 *
 * <p>Not thread-safe: one thread at a time (the threads engine hands it to a worker and
 * back through a queue, which orders the accesses).
 */
public final class DiskRequest {
    /** What a request does. */
    public enum Kind { READ, WRITE, FLUSH }

    /** Iovecs each pooled request carries inline; longer vectors get their own allocation. */
    static final int INLINE_IOVECS = 8;
    static final long IOVEC_SIZE = 16;

    private final int id;
    private final MemorySegment inlineIov;
    /** For vectors longer than INLINE_IOVECS; freed when the request is released. */
    private Arena ownArena;
    private MemorySegment iov;

    private Kind kind;
    private DiskFile file;
    private long offset;
    /**
     * The request's own copy of the caller's buffer array, held until the request is
     * released: the caller may reuse its array at once, and the segments stay reachable
     * (so memory of an automatic arena cannot be collected) while the kernel uses them.
     */
    private final MemorySegment[] inlineBuffers = new MemorySegment[INLINE_IOVECS];
    private MemorySegment[] buffers;
    private int bufferCount;
    private boolean fua;
    private IoCompletion completion;
    private long length;
    private long done;
    private int iovCount;
    private long result;
    /**
     * Where a read that reached end of file starts to zero-fill, or -1: the fill waits for
     * {@link #zeroTail()} in the home thread (see there).
     */
    private long zeroFrom = -1;

    DiskRequest(int id, MemorySegment inlineIov) {
        this.id = id;
        this.inlineIov = inlineIov;
    }

    /**
     * Checks a read or write before anything is submitted: the offset, the number of
     * buffers, that each buffer is native, not empty and still alive (its arena not
     * closed), that a read's buffers are writable, and for O_DIRECT the alignments. The
     * iovec handed to the kernel is built from each segment's own address and size, so an
     * entry can never be longer than its segment.
     *
     * @throws IllegalArgumentException naming the bad value (and, for O_DIRECT, the
     *     alignment needed)
     */
    public static void validate(Kind kind, DiskFile file, long offset, MemorySegment[] buffers) {
        Objects.requireNonNull(file, "file");
        // Messages are built only on failure: validation runs on every request, which must
        // not allocate.
        if (offset < 0) {
            throw new IllegalArgumentException(what(kind, file, false) + "offset must be >= 0, got " + offset);
        }
        if (buffers == null || buffers.length == 0) {
            throw new IllegalArgumentException(what(kind, file, false) + "at least one buffer is needed");
        }
        if (buffers.length > DiskIoEngine.MAX_BUFFERS) {
            throw new IllegalArgumentException(what(kind, file, false) + buffers.length + " buffers, at most "
                    + DiskIoEngine.MAX_BUFFERS + " allowed");
        }
        boolean direct = file.direct();
        if (direct && offset % file.offsetAlignment() != 0) {
            throw new IllegalArgumentException(what(kind, file, true) + "offset " + offset
                    + " is not a multiple of the " + file.offsetAlignment() + "-byte offset alignment");
        }
        long end = offset;
        for (int i = 0; i < buffers.length; i++) {
            MemorySegment b = buffers[i];
            if (b == null || !b.isNative() || b.byteSize() == 0) {
                throw new IllegalArgumentException(what(kind, file, false) + "buffer " + i
                        + (b == null ? " is null" : b.isNative() ? " is empty" : " is not native memory"
                                + " (a heap segment can move during the transfer; allocate it from an Arena)"));
            }
            // The kernel writes and reads these bytes by address, outside every check FFM makes
            // on a Java access: memory already freed would be corrupted (or the allocator's own
            // bookkeeping with it, which aborts the JVM), and a read-only view would be written.
            if (!b.scope().isAlive()) {
                throw new IllegalArgumentException(what(kind, file, false) + "buffer " + i
                        + " is no longer alive: the arena that allocated it is closed");
            }
            // Validation runs in the home thread, where completions run: a segment confined to
            // another thread could not be zero-filled there after end of file (nor by a
            // threads-engine worker), and FFM would throw out of the completion path.
            if (!b.isAccessibleBy(Thread.currentThread())) {
                throw new IllegalArgumentException(what(kind, file, false) + "buffer " + i + " is confined to "
                        + ConfinedOwner.describe(b) + ", not to the context's home thread '"
                        + Thread.currentThread().getName() + "': the engine's completion (and the threads engine's"
                        + " workers) cannot touch it; allocate it from a shared or automatic arena"
                        + " (Arena.ofShared(), Arena.ofAuto())");
            }
            if (kind == Kind.READ && b.isReadOnly()) {
                throw new IllegalArgumentException(what(kind, file, false) + "buffer " + i
                        + " is read-only and cannot receive the data read");
            }
            if (direct && b.address() % file.memoryAlignment() != 0) {
                throw new IllegalArgumentException(what(kind, file, true) + "buffer " + i + " address 0x"
                        + Long.toHexString(b.address()) + " is not aligned to the " + file.memoryAlignment()
                        + "-byte memory alignment");
            }
            if (direct && b.byteSize() % file.offsetAlignment() != 0) {
                throw new IllegalArgumentException(what(kind, file, true) + "buffer " + i + " length "
                        + b.byteSize() + " is not a multiple of the " + file.offsetAlignment()
                        + "-byte length alignment");
            }
            if (b.byteSize() > Long.MAX_VALUE - end) {
                // A file position past 2^63 - 1 does not exist: the kernel would answer EINVAL.
                throw new IllegalArgumentException(what(kind, file, false) + "offset " + offset + " plus the "
                        + "buffers' length passes the largest file position, " + Long.MAX_VALUE);
            }
            end += b.byteSize();
        }
    }

    private static String what(Kind kind, DiskFile file, boolean direct) {
        return (direct ? "O_DIRECT " : "") + (kind == Kind.READ ? "read" : "write") + " on fd " + file.fd() + ": ";
    }

    void init(Kind k, DiskFile f, long off, MemorySegment[] bufs, boolean forceUnitAccess, IoCompletion c) {
        this.kind = k;
        this.file = f;
        this.offset = off;
        this.fua = forceUnitAccess;
        this.completion = c;
        this.done = 0;
        this.result = 0;
        this.zeroFrom = -1;
        long len = 0;
        buffers = null;
        bufferCount = 0;
        if (bufs != null) {
            if (bufs.length > INLINE_IOVECS) {
                buffers = bufs.clone();
            } else {
                buffers = inlineBuffers;
                System.arraycopy(bufs, 0, buffers, 0, bufs.length);
            }
            bufferCount = bufs.length;
            for (int i = 0; i < bufferCount; i++) {
                len += buffers[i].byteSize();
            }
            iov = inlineIov;
            if (bufs.length > INLINE_IOVECS) {
                // Shared: a threads-engine worker writes the iovecs of a resubmission.
                ownArena = Arena.ofShared();
                iov = ownArena.allocate(IOVEC_SIZE * bufs.length, 8);
            }
        }
        this.length = len;
        buildIov();
    }

    void clear() {
        Arrays.fill(inlineBuffers, null);
        buffers = null;
        bufferCount = 0;
        completion = null;
        file = null;
        if (ownArena != null) {
            ownArena.close();
            ownArena = null;
        }
        iov = inlineIov;
        iovCount = 0;
    }

    /** Writes the iovecs for the bytes not transferred yet. */
    private void buildIov() {
        iovCount = 0;
        if (buffers == null) {
            return;
        }
        long skip = done;
        for (int i = 0; i < bufferCount; i++) {
            MemorySegment b = buffers[i];
            long size = b.byteSize();
            if (skip >= size) {
                skip -= size;
                continue;
            }
            long o = IOVEC_SIZE * iovCount++;
            iov.set(JAVA_LONG, o, b.address() + skip);
            iov.set(JAVA_LONG, o + 8, size - skip);
            skip = 0;
        }
    }

    /**
     * Applies the kernel's answer for the last submission.
     *
     * @return true when the request is finished ({@link #result()} is final); false when it
     *     must be submitted again as it now stands (the remainder, or the same request
     *     after EINTR/EAGAIN)
     */
    public boolean onResult(long res) {
        if (res < 0) {
            if (res == -Errno.EINTR || res == -Errno.EAGAIN) {
                return false;
            }
            result = res;
            return true;
        }
        if (kind == Kind.FLUSH) {
            result = 0;
            return true;
        }
        done += Math.min(res, length - done);
        if (done == length) {
            result = length;
            return true;
        }
        boolean misaligned = file.direct() && (offset + done) % file.offsetAlignment() != 0;
        if (res > 0 && !misaligned) {
            buildIov();
            return false;
        }
        if (kind == Kind.READ) {
            // End of file: the buffers past it read as zeros (filled by zeroTail in the home
            // thread); the result says where it was.
            zeroFrom = done;
            result = done;
        } else {
            result = -Errno.ENOSPC;
        }
        return true;
    }

    /**
     * Ends the request with {@code -errno} whatever it transferred: for failures of the
     * engine's own around the transfer (a cancelled job, a failed FUA flush).
     */
    public void fail(int errno) {
        if (errno <= 0) {
            throw new IllegalArgumentException("errno must be > 0, got " + errno);
        }
        result = -errno;
        zeroFrom = -1;
    }

    /**
     * Zero-fills what a read that reached end of file did not read; called by
     * {@link DiskRequestPool#finish} in the home thread just before the completion runs.
     * Not in {@link #onResult}: the threads engine calls that on a worker, where a buffer
     * confined to the home thread cannot be touched. A buffer whose arena was closed while
     * the request was in flight is skipped (its memory is gone; the caller broke the
     * contract), so the fill never throws out of an engine's completion path and the
     * request still completes, once, with its result.
     */
    void zeroTail() {
        long skip = zeroFrom;
        if (skip < 0) {
            return;
        }
        zeroFrom = -1;
        for (int i = 0; i < bufferCount; i++) {
            MemorySegment b = buffers[i];
            long size = b.byteSize();
            if (skip >= size) {
                skip -= size;
                continue;
            }
            long from = skip;
            skip = 0;
            if (!b.scope().isAlive()) {
                continue;
            }
            try {
                b.asSlice(from).fill((byte) 0);
            } catch (IllegalStateException e) {
                // A shared arena closed by another thread between the check and the fill.
            }
        }
    }

    /** The pool slot, usable as the kernel's user data. */
    public int id() {
        return id;
    }

    public Kind kind() {
        return kind;
    }

    public DiskFile file() {
        return file;
    }

    public int fd() {
        return file.fd();
    }

    public boolean fua() {
        return fua;
    }

    /** File offset of the next byte to transfer. */
    public long position() {
        return offset + done;
    }

    /** Address of the iovecs for what is still to transfer. */
    public long iovAddress() {
        return iov.address();
    }

    public int iovCount() {
        return iovCount;
    }

    /** Total bytes asked for. */
    public long length() {
        return length;
    }

    /** The final result, valid once {@link #onResult} returned true. */
    public long result() {
        return result;
    }

    public IoCompletion completion() {
        return completion;
    }

    @Override
    public String toString() {
        return "DiskRequest#" + id + "[" + kind + (file == null ? "" : " fd " + file.fd() + " at " + offset + ", "
                + done + "/" + length + " bytes") + "]";
    }
}
