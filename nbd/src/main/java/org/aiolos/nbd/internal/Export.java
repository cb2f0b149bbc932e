package org.aiolos.nbd.internal;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.api.coroutine.CoRwLock;
import org.aiolos.api.coroutine.Coroutines;
import org.aiolos.api.diskio.DiskFile;
import org.aiolos.api.diskio.DiskIoEngine;
import org.aiolos.core.AiolosContext;
import org.aiolos.linux.Errno;
import org.aiolos.linux.Fds;
import org.aiolos.linux.Files;
import org.aiolos.linux.SyscallException;
import org.aiolos.nbd.ExportSpec;

/**
 * One exported file: its descriptor(s), its disk-I/O engine, its counters, and the I/O
 * each command needs, written for request coroutines in the home thread.
 *
 * <p><b>Alignment.</b> With {@code O_DIRECT} the kernel wants block-aligned offsets,
 * lengths and buffers; clients send any byte range. A read covers the aligned superset and
 * the reply is cut out of it. A write whose range does not start and end on block
 * boundaries becomes a read-modify-write of the aligned superset: the partial head and
 * tail blocks are read first and merged around the payload. Read-modify-writes take the
 * export's {@link CoRwLock} exclusively, every other write, zero write and trim takes it
 * shared, so no write can land in a block between a read-modify-write's read and its
 * write (QEMU's serialising requests, coarser). A file whose size is not a multiple of
 * the block size also gets a second, buffered descriptor for requests that reach into
 * its last partial block, since O_DIRECT cannot write part of a block and writing the
 * whole block would grow the file.
 *
 * <p><b>Several contexts.</b> A server may spread its connections over several contexts
 * ({@link Lane}s). The descriptors, the counters and the read-modify-write lock are the
 * export's, shared by every lane (the lock is a {@code CoRwLock}, which like QEMU's may be
 * taken by coroutines of different contexts); the engine, the thread pool and the buffers
 * a request uses are its lane's: each I/O method takes the lane of the connection asking.
 * An export that names its own engine opens one per lane, on first use there (an engine
 * belongs to one context). Every lane's flush is {@code fdatasync} on the one shared
 * descriptor, so it covers every write completed before it on any lane.
 */
public final class Export {
    private static final System.Logger LOG = System.getLogger("org.aiolos.nbd");
    /** Room before a read's data for the reply header (structured: 20 + 8 bytes), page-sized to keep the data aligned. */
    static final long READ_HEADROOM = BufferPool.ALIGNMENT;
    private static final long ZERO_CHUNK = 1 << 20;

    public final ExportSpec spec;
    /** The server's home context: the export is opened and closed there. */
    private final AiolosContext ctx;
    private final int fd;
    private final DiskFile file;
    /** Buffered descriptor for the tail of a direct export whose size is not block-aligned; -1 if none. */
    private final int tailFd;
    private final DiskFile tailFile;
    public final long size;
    /** Block size for O_DIRECT (1 when buffered). */
    final long align;
    /** Requests ending at or below this use the direct descriptor. */
    private final long alignedSize;
    /** The export's own engine on each lane's context, when the spec names one; opened on first use. */
    private final ConcurrentHashMap<AioContext, DiskIoEngine> ownEngines = new ConcurrentHashMap<>();
    private final CoRwLock rmwLock;
    private final byte[] nameBytes;
    private final byte[] descriptionBytes;
    /** Failed requests' log lines, one per 10 s with a count of the others (a failing disk fails them all). */
    private final ThrottledLog failures;
    private final AioTimer failuresSummary;

    /**
     * Payload bytes (READ data, WRITE payloads) all of an export's connections may have in
     * flight together; a receiver waits for room before it reads the next request's payload
     * (beyond QEMU, which bounds requests per connection only).
     */
    static final long PAYLOAD_BUDGET = 256L << 20;

    /** Guarded by this export's monitor: connections of every lane attach and detach. */
    private final List<Connection> connections = new ArrayList<>();
    /** The payload bytes its connections' requests hold, and the receivers waiting for room, in arrival order. */
    final PayloadBudget<Transmission> budget = new PayloadBudget<>(PAYLOAD_BUDGET);
    /** Set under the monitor, read by negotiations on any lane. */
    private volatile boolean removed;
    private boolean closed;
    private volatile int connectionCount;
    final AtomicLong requests = new AtomicLong();
    final AtomicLong bytesRead = new AtomicLong();
    final AtomicLong bytesWritten = new AtomicLong();
    final AtomicLong errors = new AtomicLong();

    private Export(ExportSpec spec, AiolosContext ctx, int fd, DiskFile file, int tailFd, long size,
            long align, DiskIoEngine ownEngine) {
        this.spec = spec;
        this.ctx = ctx;
        this.fd = fd;
        this.file = file;
        this.tailFd = tailFd;
        this.tailFile = tailFd >= 0 ? DiskFile.buffered(tailFd) : file;
        this.size = size;
        this.align = align;
        this.alignedSize = size & -align;
        if (ownEngine != null) {
            ownEngines.put(ctx, ownEngine);
        }
        this.rmwLock = spec.direct() ? Coroutines.newRwLock() : null;
        this.nameBytes = spec.name().getBytes(StandardCharsets.UTF_8);
        this.descriptionBytes = spec.description() == null ? new byte[0]
                : spec.description().getBytes(StandardCharsets.UTF_8);
        // The summary of held-back failures comes when their window ends, even if no failure follows.
        this.failuresSummary = ctx.newTimer(ClockType.REALTIME, TimeScale.NS, this::flushFailures);
        this.failures = new ThrottledLog(LOG, System.Logger.Level.ERROR, "export '" + spec.name() + "'",
                leftNs -> failuresSummary.modNs(ctx.clocks().nowNs(ClockType.REALTIME) + leftNs));
    }

    /**
     * What a failure says: the message of the states the loop reports in words (no
     * provider, a closed context), else the exception with its class, which is news.
     */
    private static String reason(Exception e) {
        return e instanceof IllegalStateException && e.getMessage() != null ? e.getMessage() : e.toString();
    }

    /** The window of held-back failure lines ended: their count is logged now. */
    private void flushFailures() {
        failures.flush();
    }

    /**
     * Opens the file (and the export's own engine, if the spec names one). Home thread. No
     * engine need be available yet: requests wait for one (the context's backend-wait-ms).
     *
     * @throws IOException naming the export, the file and the errno when the file cannot be opened
     */
    static Export open(ExportSpec spec, AiolosContext ctx) throws IOException {
        int flags = (spec.readOnly() ? Files.O_RDONLY : Files.O_RDWR) | (spec.direct() ? Files.O_DIRECT : 0);
        String path = spec.file().toString();
        int fd;
        try {
            fd = Files.open(path, flags, 0);
        } catch (SyscallException e) {
            throw new IOException("export '" + spec.name() + "': cannot open " + path
                    + (spec.direct() ? " with O_DIRECT" : "") + ": " + e.getMessage(), e);
        }
        int tailFd = -1;
        DiskIoEngine own = null;
        try {
            DiskFile file = Files.diskFile(fd);
            long size = Files.size(fd);
            long align = 1;
            if (file.direct()) {
                align = Math.max(file.memoryAlignment(), file.offsetAlignment());
                if (align > BufferPool.ALIGNMENT) {
                    throw new IOException("export '" + spec.name() + "': " + path + " needs " + align
                            + "-byte alignment for O_DIRECT; at most " + BufferPool.ALIGNMENT + " is supported");
                }
                if (size % align != 0) {
                    tailFd = Files.open(path, spec.readOnly() ? Files.O_RDONLY : Files.O_RDWR, 0);
                }
            }
            if (spec.engine() != null) {
                own = ctx.openDiskIo(spec.engine(), "export '" + spec.name() + "'");
            }
            return new Export(spec, ctx, fd, file, tailFd, size, align, own);
        } catch (IOException | RuntimeException e) {
            if (own != null) {
                own.close();
            }
            if (tailFd >= 0) {
                Fds.close(tailFd);
            }
            Fds.close(fd);
            if (e instanceof SyscallException se) {
                throw new IOException("export '" + spec.name() + "': " + path + ": " + se.getMessage(), se);
            }
            throw e;
        }
    }

    public String name() {
        return spec.name();
    }

    byte[] nameBytes() {
        return nameBytes;
    }

    byte[] descriptionBytes() {
        return descriptionBytes;
    }

    public int connectionCount() {
        return connectionCount;
    }

    public long requests() {
        return requests.get();
    }

    public long bytesRead() {
        return bytesRead.get();
    }

    public long bytesWritten() {
        return bytesWritten.get();
    }

    public long errors() {
        return errors.get();
    }

    /** The engine's name ({@code threads}, {@code native}, {@code io_uring}). */
    public String engineName(String contextEngine) {
        DiskIoEngine own = ownEngines.get(ctx);
        return own != null ? own.name() : contextEngine;
    }

    /** The engine a request of {@code lane} uses; in that lane's home thread. */
    private DiskIoEngine engine(Lane lane) {
        if (spec.engine() == null) {
            return lane.ctx.diskIo();
        }
        DiskIoEngine own = ownEngines.get(lane.ctx);
        if (own == null) {
            // First request of this export on this lane: its own engine there (once per lane).
            own = lane.ctx.openDiskIo(spec.engine(), "export '" + spec.name() + "'");
            ownEngines.put(lane.ctx, own);
        }
        return own;
    }

    /** The NBD transmission flags this export advertises. */
    int transmissionFlags() {
        int f = Proto.TF_HAS_FLAGS | Proto.TF_SEND_FLUSH | Proto.TF_SEND_FUA | Proto.TF_CAN_MULTI_CONN;
        if (spec.readOnly()) {
            f |= Proto.TF_READ_ONLY;
        } else {
            f |= Proto.TF_SEND_TRIM | Proto.TF_SEND_WRITE_ZEROES | Proto.TF_SEND_FAST_ZERO;
        }
        return f;
    }

    /** The preferred block size advertised (NBD_INFO_BLOCK_SIZE). */
    int preferredBlockSize() {
        return (int) Math.max(4096, align);
    }

    /** Adds a connection entering transmission; false when the export was removed meanwhile. Any lane. */
    synchronized boolean attach(Connection c) {
        if (removed) {
            return false;
        }
        connections.add(c);
        connectionCount = connections.size();
        return true;
    }

    synchronized void detach(Connection c) {
        connections.remove(c);
        connectionCount = connections.size();
    }

    boolean removed() {
        return removed;
    }

    /** Marks the export removed (no connection attaches from now on) and returns those attached. */
    synchronized List<Connection> markRemoved() {
        removed = true;
        return new ArrayList<>(connections);
    }

    synchronized List<Connection> attached() {
        return new ArrayList<>(connections);
    }

    synchronized boolean idle() {
        return connections.isEmpty();
    }

    // ------------------------------------------------------------------ payload budget

    /**
     * The connections holding budget whose sockets have moved no byte for {@code periodNs}
     * up to {@code nowNs} ({@link System#nanoTime}); the candidates for the stall rule
     * ({@link StallWatch}), which each checks for itself in its own context.
     */
    List<Transmission> holdersIdleFor(long nowNs, long periodNs) {
        List<Transmission> idle = new ArrayList<>();
        for (Transmission h : budget.holders()) {
            if (nowNs - h.lastProgressNs() >= periodNs) {
                idle.add(h);
            }
        }
        return idle;
    }

    // ------------------------------------------------------------------ layout

    private boolean useDirect(long off, long len) {
        return file.direct() && off + len <= alignedSize;
    }

    /** Where the file range a request covers starts: the block-aligned start for direct I/O. */
    long spanStart(long off, long len) {
        return useDirect(off, len) ? off & -align : off;
    }

    long spanEnd(long off, long len) {
        return useDirect(off, len) ? (off + len + align - 1) & -align : off + len;
    }

    /** Bytes a READ's buffer needs: header room plus the aligned span. */
    long readBufferSize(long off, long len) {
        return READ_HEADROOM + spanEnd(off, len) - spanStart(off, len);
    }

    /** Where in a READ's buffer the client's data starts. */
    long readDataPos(long off, long len) {
        return READ_HEADROOM + off - spanStart(off, len);
    }

    /** Bytes a WRITE's buffer needs: the aligned span. */
    long writeBufferSize(long off, long len) {
        return spanEnd(off, len) - spanStart(off, len);
    }

    /** Where in a WRITE's buffer the receiver puts the client's payload. */
    long writePayloadPos(long off, long len) {
        return off - spanStart(off, len);
    }

    // ------------------------------------------------------------------ I/O (request coroutines)

    private static int engineError(long r) {
        return r < 0 ? Proto.nbdError((int) -r) : 0;
    }

    /**
     * The NBD error for an engine's result; a failure (the disk's errno: ENOSPC, EIO) is
     * logged too, throttled, naming the request.
     */
    private int engineResult(long r, String request) {
        if (r < 0) {
            failures.log(() -> "export '" + name() + "': " + request + " failed: " + Errno.describe((int) -r));
        }
        return engineError(r);
    }

    private int readv(Lane lane, DiskFile f, long off, MemorySegment seg) {
        try {
            long r = engine(lane).coReadv(f, off, new MemorySegment[] {seg});
            return r >= 0 ? 0 : engineResult(r, "read of " + seg.byteSize() + " bytes at " + off);
        } catch (RuntimeException e) {
            failures.log(() -> "export '" + name() + "': read of " + seg.byteSize() + " bytes at " + off
                    + " failed: " + reason(e));
            return Proto.EIO;
        }
    }

    private int writev(Lane lane, DiskFile f, long off, MemorySegment seg, boolean fua) {
        try {
            long r = engine(lane).coWritev(f, off, new MemorySegment[] {seg}, fua);
            return r >= 0 ? 0 : engineResult(r, "write of " + seg.byteSize() + " bytes at " + off);
        } catch (RuntimeException e) {
            failures.log(() -> "export '" + name() + "': write of " + seg.byteSize() + " bytes at " + off
                    + " failed: " + reason(e));
            return Proto.EIO;
        }
    }

    /** Reads [off, off+len) into {@code buf} at {@link #readDataPos}; returns an NBD error or 0. */
    int read(Lane lane, long off, long len, MemorySegment buf) {
        long s = spanStart(off, len);
        long e = spanEnd(off, len);
        return readv(lane, useDirect(off, len) ? file : tailFile, s, buf.asSlice(READ_HEADROOM, e - s));
    }

    /**
     * Writes the payload held in {@code buf} at {@link #writePayloadPos} to [off, off+len);
     * returns an NBD error or 0.
     */
    int write(Lane lane, long off, long len, MemorySegment buf, boolean fua) {
        boolean direct = useDirect(off, len);
        long s = spanStart(off, len);
        long e = spanEnd(off, len);
        boolean rmw = direct && (s != off || e != off + len);
        // On a direct export every write takes the lock, tail writes through the buffered
        // descriptor too: one may share its first block with a read-modify-write.
        if (rmwLock != null) {
            if (rmw) {
                rmwLock.writeLock();
            } else {
                rmwLock.readLock();
            }
        }
        try {
            if (rmw) {
                int err = mergeEdges(lane, off, len, s, e, buf);
                if (err != 0) {
                    return err;
                }
            }
            return writev(lane, direct ? file : tailFile, s, buf.asSlice(0, e - s), fua);
        } finally {
            if (rmwLock != null) {
                rmwLock.unlock();
            }
        }
    }

    /** Fills the parts of the head and tail blocks of [s, e) that [off, off+len) does not cover from the file. */
    private int mergeEdges(Lane lane, long off, long len, long s, long e, MemorySegment buf) {
        BufferPool.Buffer tmp = lane.pool.get(align);
        try {
            MemorySegment block = tmp.segment.asSlice(0, align);
            long end = off + len;
            long headBlockRead = -1;
            if (s != off) {
                int err = readv(lane, file, s, block);
                if (err != 0) {
                    return err;
                }
                MemorySegment.copy(block, 0, buf, 0, off - s);
                headBlockRead = s;
            }
            if (e != end) {
                long tailBlock = e - align;
                if (tailBlock != headBlockRead) {
                    int err = readv(lane, file, tailBlock, block);
                    if (err != 0) {
                        return err;
                    }
                }
                long from = end - tailBlock;
                MemorySegment.copy(block, from, buf, end - s, align - from);
            }
            return 0;
        } finally {
            lane.pool.put(tmp);
        }
    }

    int flush(Lane lane) {
        try {
            return engineResult(engine(lane).coFlush(file), "flush");
        } catch (RuntimeException e) {
            failures.log(() -> "export '" + name() + "': flush failed: " + reason(e));
            return Proto.EIO;
        }
    }

    /** fallocate on a thread-pool worker; returns 0 or a positive errno. */
    private int fallocate(Lane lane, int mode, long off, long len) {
        try {
            lane.ctx.threadPool().submitCo(() -> {
                Files.fallocate(fd, mode, off, len);
                return null;
            });
            return 0;
        } catch (SyscallException e) {
            return e.errno();
        } catch (Exception e) {
            failures.log(() -> "export '" + name() + "': fallocate(mode 0x" + Integer.toHexString(mode) + ", " + len
                    + " bytes at " + off + ") failed: " + reason(e));
            return Errno.EIO;
        }
    }

    /** Punches a hole (NBD_CMD_TRIM); a file system without hole punching makes it a no-op, as trim allows. */
    int trim(Lane lane, long off, long len, boolean fua) {
        if (rmwLock != null) {
            rmwLock.readLock();
        }
        int errno;
        try {
            errno = fallocate(lane, Files.FALLOC_FL_PUNCH_HOLE | Files.FALLOC_FL_KEEP_SIZE, off, len);
        } finally {
            if (rmwLock != null) {
                rmwLock.unlock();
            }
        }
        if (errno != 0 && errno != Errno.EOPNOTSUPP) {
            return Proto.nbdError(errno);
        }
        return fua ? flush(lane) : 0;
    }

    /**
     * NBD_CMD_WRITE_ZEROES: a hole when allowed (reads back as zeros), otherwise
     * FALLOC_FL_ZERO_RANGE; when the file system has neither, zeros are written unless the
     * client asked for a fast zero, which then fails with NBD_ENOTSUP.
     */
    int writeZeroes(Lane lane, long off, long len, boolean noHole, boolean fast, boolean fua) {
        if (rmwLock != null) {
            rmwLock.readLock();
        }
        int errno;
        try {
            errno = Errno.EOPNOTSUPP;
            if (!noHole) {
                errno = fallocate(lane, Files.FALLOC_FL_PUNCH_HOLE | Files.FALLOC_FL_KEEP_SIZE, off, len);
            }
            if (errno == Errno.EOPNOTSUPP) {
                errno = fallocate(lane, Files.FALLOC_FL_ZERO_RANGE | Files.FALLOC_FL_KEEP_SIZE, off, len);
            }
        } finally {
            if (rmwLock != null) {
                rmwLock.unlock();
            }
        }
        if (errno == Errno.EOPNOTSUPP) {
            if (fast) {
                return Proto.ENOTSUP;
            }
            int err = writeZeroBuffers(lane, off, len);
            if (err != 0) {
                return err;
            }
        } else if (errno != 0) {
            return Proto.nbdError(errno);
        }
        return fua ? flush(lane) : 0;
    }

    private int writeZeroBuffers(Lane lane, long off, long len) {
        long pos = off;
        long end = off + len;
        while (pos < end) {
            long n = Math.min(ZERO_CHUNK - (pos & (align - 1)), end - pos);
            BufferPool.Buffer b = lane.pool.get(writeBufferSize(pos, n));
            try {
                b.segment.fill((byte) 0);
                int err = write(lane, pos, n, b.segment, false);
                if (err != 0) {
                    return err;
                }
            } finally {
                lane.pool.put(b);
            }
            pos += n;
        }
        return 0;
    }

    /**
     * base:allocation extents of [off, off+len) from {@code lseek(SEEK_DATA/SEEK_HOLE)} on the
     * thread pool: pairs of (length, NBD_STATE_* flags), at most {@code max}, covering a
     * prefix of the range; holes read as zeros. Returns null and sets nothing on failure
     * (the caller answers NBD_EIO). A file system without hole tracking reports all data.
     */
    long[] extents(Lane lane, long off, long len, int max) {
        try {
            return lane.ctx.threadPool().submitCo(() -> {
                long[] out = new long[2 * max];
                int n = 0;
                long pos = off;
                long end = off + len;
                while (pos < end && n < max) {
                    long data = Files.seekData(fd, pos);
                    long stop;
                    int flags;
                    if (data < 0 || data > pos) {
                        stop = data < 0 ? end : Math.min(data, end);
                        flags = Proto.STATE_HOLE | Proto.STATE_ZERO;
                    } else {
                        long hole = Files.seekHole(fd, pos);
                        stop = hole < 0 ? end : Math.min(hole, end);
                        flags = 0;
                    }
                    if (stop <= pos) {
                        stop = end; // the file changed under us: call the rest data
                        flags = 0;
                    }
                    if (n > 0 && out[2 * n - 1] == flags) {
                        out[2 * n - 2] += stop - pos;
                    } else {
                        out[2 * n] = stop - pos;
                        out[2 * n + 1] = flags;
                        n++;
                    }
                    pos = stop;
                }
                return java.util.Arrays.copyOf(out, 2 * n);
            });
        } catch (Exception e) {
            failures.log(() -> "export '" + name() + "': block status of " + len + " bytes at " + off
                    + " failed: " + reason(e));
            return null;
        }
    }

    /**
     * Closes the export's own engine on {@code lane}'s context, once that lane serves none
     * of its requests any more (the lane was withdrawn). Any thread; the engine closes in
     * its own home thread.
     */
    void closeEngineOf(AioContext laneCtx) {
        DiskIoEngine own = ownEngines.remove(laneCtx);
        if (own != null) {
            closeInHome(laneCtx, own);
        }
    }

    private void closeInHome(AioContext owner, DiskIoEngine engine) {
        if (owner.inHomeThread()) {
            engine.close();
            return;
        }
        try {
            owner.scheduleOneshot("nbd-export-engine-close", engine::close);
        } catch (IllegalStateException gone) {
            // The context is closed, and its engines with it.
            LOG.log(System.Logger.Level.DEBUG, () -> "export '" + name() + "': " + gone.getMessage());
        }
    }

    /**
     * Closes the own engines and the descriptors; the server's home thread, with no request
     * in flight on any lane. Idempotent.
     */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        failuresSummary.cancel();
        failures.flush();
        try {
            for (var own : ownEngines.entrySet()) {
                closeInHome(own.getKey(), own.getValue());
            }
            ownEngines.clear();
        } finally {
            if (tailFd >= 0) {
                Fds.close(tailFd);
            }
            Fds.close(fd);
        }
    }
}
