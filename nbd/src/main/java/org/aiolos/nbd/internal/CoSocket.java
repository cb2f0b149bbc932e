package org.aiolos.nbd.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.aiolos.api.AioContext;
import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;
import org.aiolos.linux.Errno;
import org.aiolos.linux.Fds;
import org.aiolos.linux.Sockets;
import org.aiolos.linux.SyscallException;

/**
 * A non-blocking socket read and written from coroutines in its context's home thread
 * (QEMU's {@code qio_channel_yield} in {@code io/channel.c}): a call that gets
 * {@code EAGAIN} registers read or write interest with the context's fd monitor and
 * yields; the fd handler enters the waiting coroutine again.
 *
 * <p>One reader (the connection's receiver) and one writer at a time (the writers'
 * ordering is the caller's business). A handler that fires with nobody waiting withdraws
 * its interest, since level-triggered monitors would otherwise report it again and again;
 * while a connection is busy the interest stays, so a steady stream costs no
 * {@code epoll_ctl} per request.
 *
 * <p>Reads go through a read-ahead buffer, so a burst of pipelined request headers costs
 * one system call; what remains of a large payload is read straight into its buffer.
 */
final class CoSocket implements NbdStream {
    /** Socket read-ahead: one read takes in many pipelined request headers (and small payloads). */
    static final int READ_AHEAD = 64 << 10;

    private final AioContext ctx;
    private final int fd;
    private final MemorySegment readAhead;
    /** [readPos, readEnd) of readAhead is read from the socket and not yet consumed. */
    private int readPos;
    private int readEnd;
    private final Runnable onReadable = this::handleReadable;
    private final Runnable onWritable = this::handleWritable;
    private Coroutine readWaiter;
    private Coroutine writeWaiter;
    private boolean regRead;
    private boolean regWrite;
    /** No further reads: a reader waiting or arriving gets ConnectionClosed. */
    private boolean readingStopped;
    /** Writers give up: the client does not read, or the socket failed. */
    private boolean broken;
    private boolean closed;
    /**
     * {@link System#nanoTime} of the last read or write that moved bytes (or of the
     * accept): how long the client has kept the connection from making progress. Written
     * in the home thread, read by other connections' threads looking for a stalled one.
     */
    private long lastProgressNs = System.nanoTime();
    /**
     * Opaque access: a reader only needs some recent value (it compares with a period of
     * seconds), so each read or write of the socket pays no fence for it.
     */
    private static final VarHandle LAST_PROGRESS;

    static {
        try {
            LAST_PROGRESS = MethodHandles.lookup().findVarHandle(CoSocket.class, "lastProgressNs", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    CoSocket(AioContext ctx, int fd, Arena arena) {
        this.ctx = ctx;
        this.fd = fd;
        this.readAhead = arena.allocate(READ_AHEAD, 8);
    }

    /** When bytes last moved either way ({@link System#nanoTime}); any thread. */
    long lastProgressNs() {
        return (long) LAST_PROGRESS.getOpaque(this);
    }

    int fd() {
        return fd;
    }

    // ------------------------------------------------------------------ interest

    private void applyInterest() {
        if (closed) {
            return;
        }
        if (!regRead && !regWrite) {
            ctx.removeFdHandler(fd);
        } else {
            ctx.setFdHandler(fd, regRead ? onReadable : null, regWrite ? onWritable : null);
        }
    }

    private void handleReadable() {
        Coroutine r = readWaiter;
        if (r != null) {
            readWaiter = null;
            Coroutines.enter(ctx, r);
        } else {
            regRead = false;
            applyInterest();
        }
    }

    private void handleWritable() {
        Coroutine w = writeWaiter;
        if (w != null) {
            writeWaiter = null;
            Coroutines.enter(ctx, w);
        } else {
            regWrite = false;
            applyInterest();
        }
    }

    private void awaitReadable() {
        if (readingStopped) {
            throw new ConnectionClosed("stopping");
        }
        Coroutine self = Coroutines.self();
        readWaiter = self;
        if (!regRead) {
            regRead = true;
            applyInterest();
        }
        while (readWaiter == self) {
            Coroutines.yieldNow();
        }
        if (readingStopped) {
            throw new ConnectionClosed("stopping");
        }
    }

    // ------------------------------------------------------------------ reading

    @Override
    public void readFully(MemorySegment seg, long len) {
        long done = 0;
        while (done < len) {
            int buffered = readEnd - readPos;
            if (buffered > 0) {
                int n = (int) Math.min(buffered, len - done);
                MemorySegment.copy(readAhead, readPos, seg, done, n);
                readPos += n;
                done += n;
                continue;
            }
            long need = len - done;
            boolean straight = need >= READ_AHEAD / 2;
            int n = straight ? read(done == 0 ? seg : seg.asSlice(done), Math.min(need, Integer.MAX_VALUE))
                    : read(readAhead, READ_AHEAD);
            if (n > 0) {
                if (straight) {
                    done += n;
                } else {
                    readPos = 0;
                    readEnd = n;
                }
            } else if (n == 0) {
                throw new ConnectionClosed(done == 0 ? "end of stream" : "end of stream inside a message");
            } else {
                awaitReadable();
            }
        }
    }

    /**
     * Reads at least one and at most {@code max} bytes into {@code seg}, taking bytes
     * already read ahead first (the TLS layer's ciphertext source). A heap {@code seg}
     * (which read(2) cannot take through a non-critical downcall) is filled through the
     * read-ahead buffer, empty at that point.
     *
     * @return how many bytes were read
     */
    int readSome(MemorySegment seg, int max) {
        while (true) {
            int buffered = readEnd - readPos;
            if (buffered > 0) {
                int n = Math.min(buffered, max);
                MemorySegment.copy(readAhead, readPos, seg, 0, n);
                readPos += n;
                return n;
            }
            int n = seg.isNative() ? read(seg, max) : read(readAhead, Math.min(max, READ_AHEAD));
            if (n > 0) {
                if (!seg.isNative()) {
                    MemorySegment.copy(readAhead, 0, seg, 0, n);
                }
                return n;
            }
            if (n == 0) {
                throw new ConnectionClosed("end of stream");
            }
            awaitReadable();
        }
    }

    /** One read(2): bytes read, 0 at end of stream, or -1 for "would block". */
    private int read(MemorySegment seg, long max) {
        int n;
        do {
            try {
                n = Fds.read(fd, seg, max);
            } catch (SyscallException e) {
                broken = true;
                throw new ConnectionClosed("read failed: " + e.errnoName());
            }
        } while (n == -Errno.EINTR);
        if (n > 0) {
            LAST_PROGRESS.setOpaque(this, System.nanoTime());
        }
        return n >= 0 ? n : -1;
    }

    // ------------------------------------------------------------------ writing

    @Override
    public void writeFully(MemorySegment seg, long len) {
        long done = 0;
        while (done < len) {
            int n = writeSome(done == 0 ? seg : seg.asSlice(done), len - done);
            if (n > 0) {
                done += n;
            } else {
                awaitWritable();
            }
        }
    }

    /**
     * One write(2) of up to {@code len} bytes of {@code seg}, without yielding.
     *
     * @return bytes written; 0 when the socket takes none now
     * @throws ConnectionClosed once the connection is abandoned, or when the write fails
     */
    int writeSome(MemorySegment seg, long len) {
        if (broken) {
            throw new ConnectionClosed("abandoned");
        }
        int n;
        do {
            try {
                n = Fds.write(fd, seg, Math.min(len, Integer.MAX_VALUE));
            } catch (SyscallException e) {
                broken = true;
                throw new ConnectionClosed("write failed: " + e.errnoName());
            }
        } while (n == -Errno.EINTR);
        if (n > 0) {
            LAST_PROGRESS.setOpaque(this, System.nanoTime());
        }
        return Math.max(n, 0); // -EAGAIN: nothing written
    }

    /** Yields until the socket takes bytes again (or the connection is abandoned). */
    void awaitWritable() {
        Coroutine self = Coroutines.self();
        writeWaiter = self;
        if (!regWrite) {
            regWrite = true;
            applyInterest();
        }
        while (writeWaiter == self) {
            Coroutines.yieldNow();
        }
    }

    /**
     * One non-blocking write outside coroutines, for a last word before {@link #close()}
     * (a TLS close_notify): whatever the socket does not take at once is dropped.
     *
     * @return bytes written; 0 when the socket is full, broken or failed
     */
    int writeNow(MemorySegment seg, long len) {
        if (broken || closed) {
            return 0;
        }
        try {
            return Math.max(0, Fds.write(fd, seg, len));
        } catch (SyscallException e) {
            return 0; // the client is gone: nothing to tell it
        }
    }

    // ------------------------------------------------------------------ ending

    /** No more reads: a reader waiting for the socket is woken and gets ConnectionClosed. */
    void stopReading() {
        readingStopped = true;
        Coroutine r = readWaiter;
        if (r != null) {
            readWaiter = null;
            Coroutines.enter(ctx, r);
        }
    }

    boolean readingStopped() {
        return readingStopped;
    }

    /** Writers give up from now on (a request failed unexpectedly); nobody is woken. */
    void markBroken() {
        broken = true;
    }

    boolean broken() {
        return broken;
    }

    /** A writer is waiting for the socket to take more bytes. */
    boolean writerWaiting() {
        return writeWaiter != null;
    }

    /** Everyone gives up: the waiting writer and reader are woken and get ConnectionClosed. */
    void abandon() {
        broken = true;
        Coroutine w = writeWaiter;
        if (w != null) {
            writeWaiter = null;
            Coroutines.enter(ctx, w);
        }
        stopReading();
    }

    /**
     * Removes the handler and closes the descriptor; a broken socket is reset rather than
     * left holding replies (up to megabytes) in the kernel for a client that does not read.
     */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (regRead || regWrite) {
            ctx.removeFdHandler(fd);
        }
        if (broken) {
            try {
                Sockets.resetOnClose(fd);
            } catch (SyscallException ignored) {
                // the socket is already gone
            }
        }
        Fds.close(fd);
    }
}
