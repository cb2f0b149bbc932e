package org.aiolos.nbd.internal;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.api.coroutine.CoMutex;
import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;
import org.aiolos.linux.Errno;
import org.aiolos.linux.Fds;
import org.aiolos.linux.Sockets;
import org.aiolos.linux.SyscallException;
import org.aiolos.nbd.jfr.NbdRequestEvent;

/**
 * One client connection: a receiver coroutine that runs the handshake and then reads
 * requests, and one coroutine per request that does the disk I/O and sends the reply.
 * Everything runs in the server context's home thread.
 *
 * <p><b>Socket I/O.</b> The socket is non-blocking; a coroutine that gets {@code EAGAIN}
 * registers interest with the context's fd monitor and yields, and the fd handler enters
 * it again. Only the receiver reads; writers take {@link #sendLock} so a reply's header
 * and payload go out together. A handler that fires with nobody waiting withdraws its
 * interest (level-triggered monitors would otherwise report it again and again).
 *
 * <p><b>Back-pressure.</b> At {@link Proto#MAX_REQUESTS} requests in flight the receiver
 * stops reading the socket until one completes, so a client cannot make the server queue
 * unbounded work or memory: at most 16 payloads of at most 32 MiB per connection.
 *
 * <p><b>Ending.</b> The connection stops reading on {@code NBD_CMD_DISC}, at end of
 * stream, on a protocol violation, or when the server or the export asks it to
 * ({@link #stop}); requests in flight still complete and reply. A reply still blocked
 * on a full socket {@link #GRACE_MS} after the stop (a client that no longer reads) is
 * abandoned, and with it the connection (the grace period restarts while requests are
 * only busy with the disk). Once the receiver has ended and no request is in flight, the
 * handler is removed and the socket closed; buffers are returned only after their disk
 * request has completed.
 */
final class Connection {
    private static final System.Logger LOG = System.getLogger("org.aiolos.nbd");
    static final long GRACE_MS = 2000;
    private static final ValueLayoutHolder L = new ValueLayoutHolder();
    private static final int IO_BUFFER = Proto.MAX_OPTION_LENGTH + 4096;
    /** Socket read-ahead: one read takes in many pipelined request headers (and small payloads). */
    private static final int READ_AHEAD = 64 << 10;

    /** Big-endian unaligned layouts (NBD is network byte order). */
    private static final class ValueLayoutHolder {
        final java.lang.foreign.ValueLayout.OfShort u16 = JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
        final java.lang.foreign.ValueLayout.OfInt u32 = JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
        final java.lang.foreign.ValueLayout.OfLong u64 = JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    }

    /** The connection is over for the coroutine that sees this; not an error to report. */
    static final class Closed extends RuntimeException {
        Closed(String why) {
            super(why, null, false, false);
        }
    }

    /** The client broke the protocol; the connection is closed after logging one line. */
    static final class ProtocolError extends RuntimeException {
        ProtocolError(String why) {
            super(why, null, false, false);
        }
    }

    private enum RecvWait { NONE, READABLE, SLOT }

    private final ServerCore server;
    /** The context this connection was placed on, and its buffers. */
    private final Lane lane;
    private final AioContext ctx;
    final int fd;
    final String peer;
    private final Arena arena = Arena.ofShared();
    /** Receiver's buffer: request headers and option payloads. */
    private final MemorySegment in;
    /** Bytes read from the socket ahead of the receiver: [readPos, readEnd) is unconsumed. */
    private final MemorySegment readAhead;
    private int readPos;
    private int readEnd;
    /** Writers' buffer, under sendLock: reply headers, option replies. */
    private final MemorySegment out;
    private final CoMutex sendLock = Coroutines.newMutex();
    private final Runnable onReadable = this::handleReadable;
    private final Runnable onWritable = this::handleWritable;

    private Export export;
    private boolean structured;
    private boolean noZeroes;
    /** The export NBD_OPT_SET_META_CONTEXT selected base:allocation for, or null. */
    private String metaExport;
    /** base:allocation is selected for the export in transmission. */
    private boolean blockStatus;
    private Coroutine receiver;
    private RecvWait recvWait = RecvWait.NONE;
    private Coroutine writeWaiter;
    private boolean regRead;
    private boolean regWrite;
    private int inFlight;
    /** No further requests are read. */
    private boolean stopping;
    /** Waiting writers give up: the client does not read, or the socket failed. */
    private boolean forced;
    private boolean receiverDone;
    private boolean finished;
    private AioTimer graceTimer;
    private AioTimer handshakeTimer;

    Connection(ServerCore server, Lane lane, int fd, String peer) {
        this.server = server;
        this.lane = lane;
        this.ctx = lane.ctx;
        this.fd = fd;
        this.peer = peer;
        this.in = arena.allocate(IO_BUFFER, 8);
        this.readAhead = arena.allocate(READ_AHEAD, 8);
        this.out = arena.allocate(IO_BUFFER, 8);
    }

    Export export() {
        return export;
    }

    Lane lane() {
        return lane;
    }

    /** Closes a connection that was never started (its lane's context closed first). */
    void discard() {
        finished = true;
        Fds.close(fd);
        arena.close();
    }

    /**
     * Starts the receiver; in the lane's home thread, outside any coroutine (the accept
     * handler, or a bottom half the listener scheduled on another lane). A stop that came
     * first ends the connection at once.
     */
    void start(long handshakeTimeoutNs) {
        if (stopping) {
            receiverDone = true;
            maybeFinish();
            return;
        }
        if (handshakeTimeoutNs > 0) {
            handshakeTimer = ctx.newTimer(ClockType.REALTIME, TimeScale.NS, () -> {
                if (export == null && !finished) {
                    LOG.log(System.Logger.Level.WARNING, "NBD client " + peer + ": negotiation not finished within "
                            + handshakeTimeoutNs / 1_000_000 + " ms; closing the connection");
                    stopping = true;
                    abandon();
                }
            });
            handshakeTimer.modNs(ctx.clocks().nowNs(ClockType.REALTIME) + handshakeTimeoutNs);
        }
        receiver = Coroutines.create("nbd-recv-" + peer, this::receive);
        Coroutines.enter(ctx, receiver);
    }

    // ------------------------------------------------------------------ socket I/O

    private void applyInterest() {
        if (finished) {
            return;
        }
        if (!regRead && !regWrite) {
            ctx.removeFdHandler(fd);
        } else {
            ctx.setFdHandler(fd, regRead ? onReadable : null, regWrite ? onWritable : null);
        }
    }

    private void handleReadable() {
        if (recvWait == RecvWait.READABLE) {
            recvWait = RecvWait.NONE;
            Coroutines.enter(ctx, receiver);
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

    /**
     * Reads exactly {@code len} bytes into {@code seg} (receiver only). Small reads go
     * through the read-ahead buffer, so a burst of pipelined requests costs one system call,
     * not one per header; what remains of a large payload is read straight into its buffer.
     */
    private void readFully(MemorySegment seg, long len) {
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
            int n;
            try {
                n = straight ? Fds.read(fd, done == 0 ? seg : seg.asSlice(done), Math.min(need, Integer.MAX_VALUE))
                        : Fds.read(fd, readAhead, READ_AHEAD);
            } catch (SyscallException e) {
                forced = true;
                throw new Closed("read failed: " + e.errnoName());
            }
            if (n > 0) {
                if (straight) {
                    done += n;
                } else {
                    readPos = 0;
                    readEnd = n;
                }
            } else if (n == 0) {
                throw new Closed(done == 0 ? "end of stream" : "end of stream inside a message");
            } else if (n == -Errno.EAGAIN) {
                if (stopping) {
                    throw new Closed("stopping");
                }
                recvWait = RecvWait.READABLE;
                if (!regRead) {
                    regRead = true;
                    applyInterest();
                }
                while (recvWait == RecvWait.READABLE) {
                    Coroutines.yieldNow();
                }
                if (stopping) {
                    throw new Closed("stopping");
                }
            }
        }
    }

    /** Writes exactly {@code len} bytes of {@code seg} (holding sendLock, or in the handshake). */
    private void writeFully(MemorySegment seg, long len) {
        long done = 0;
        while (done < len) {
            if (forced) {
                throw new Closed("abandoned");
            }
            int n;
            try {
                n = Fds.write(fd, done == 0 ? seg : seg.asSlice(done), Math.min(len - done, Integer.MAX_VALUE));
            } catch (SyscallException e) {
                forced = true;
                throw new Closed("write failed: " + e.errnoName());
            }
            if (n >= 0) {
                done += n;
            } else if (n == -Errno.EAGAIN) {
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
        }
    }

    // ------------------------------------------------------------------ receiver

    private void receive() {
        try {
            if (handshake()) {
                transmission();
            }
        } catch (Closed e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "NBD client " + peer + ": " + e.getMessage());
        } catch (ProtocolError e) {
            LOG.log(System.Logger.Level.WARNING, "NBD client " + peer + ": " + e.getMessage()
                    + "; closing the connection");
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "NBD client " + peer + ": unexpected failure; closing the connection",
                    e);
        } finally {
            receiverDone = true;
            stopping = true;
            if (inFlight > 0) {
                armGrace();
            }
            maybeFinish();
        }
    }

    private static String utf8(MemorySegment seg, long off, int len) {
        byte[] b = new byte[len];
        MemorySegment.copy(seg, JAVA_BYTE, off, b, 0, len);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** A client-supplied string fit for a log line: quoted, control characters escaped, at most 64 characters. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder("'");
        for (int i = 0; i < s.length() && i < 64; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || c == 0xfffd) {
                b.append(String.format("\\x%02x", (int) c & 0xff));
            } else {
                b.append(c);
            }
        }
        return b.append(s.length() > 64 ? "'..." : "'").toString();
    }

    /** @return true when the client entered transmission on an export */
    private boolean handshake() {
        out.set(L.u64, 0, Proto.NBDMAGIC);
        out.set(L.u64, 8, Proto.IHAVEOPT);
        out.set(L.u16, 16, (short) (Proto.FLAG_FIXED_NEWSTYLE | Proto.FLAG_NO_ZEROES));
        writeFully(out, 18);
        readFully(in, 4);
        int clientFlags = in.get(L.u32, 0);
        if ((clientFlags & ~(Proto.CLIENT_FLAG_FIXED_NEWSTYLE | Proto.CLIENT_FLAG_NO_ZEROES)) != 0) {
            throw new ProtocolError("unknown client flags 0x" + Integer.toHexString(clientFlags));
        }
        noZeroes = (clientFlags & Proto.CLIENT_FLAG_NO_ZEROES) != 0;
        while (true) {
            readFully(in, 16);
            long magic = in.get(L.u64, 0);
            int option = in.get(L.u32, 8);
            long length = Integer.toUnsignedLong(in.get(L.u32, 12));
            if (magic != Proto.IHAVEOPT) {
                throw new ProtocolError("bad option magic 0x" + Long.toHexString(magic));
            }
            if (length > Proto.MAX_OPTION_LENGTH) {
                throw new ProtocolError("option " + option + " has a " + length + "-byte payload, more than the "
                        + Proto.MAX_OPTION_LENGTH + " accepted");
            }
            int len = (int) length;
            readFully(in, len);
            switch (option) {
                case Proto.OPT_EXPORT_NAME -> {
                    String name = utf8(in, 0, len);
                    Export e = server.findExport(name);
                    if (e == null) {
                        throw new ProtocolError("NBD_OPT_EXPORT_NAME for unknown export " + printable(name));
                    }
                    out.set(L.u64, 0, e.size);
                    out.set(L.u16, 8, (short) e.transmissionFlags());
                    int n = 10;
                    if (!noZeroes) {
                        out.asSlice(10, 124).fill((byte) 0);
                        n += 124;
                    }
                    writeFully(out, n);
                    attach(e);
                    return true;
                }
                case Proto.OPT_ABORT -> {
                    try {
                        optionReply(option, Proto.REP_ACK, 0);
                    } catch (Closed ignored) {
                        // the client may already have gone, as it is allowed to
                    }
                    return false;
                }
                case Proto.OPT_LIST -> {
                    if (len != 0) {
                        optionError(option, Proto.REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
                    } else {
                        for (Export e : server.listExports()) {
                            byte[] name = e.nameBytes();
                            byte[] description = e.descriptionBytes();
                            out.set(L.u32, 20, name.length);
                            MemorySegment.copy(name, 0, out, JAVA_BYTE, 24, name.length);
                            MemorySegment.copy(description, 0, out, JAVA_BYTE, 24 + name.length, description.length);
                            optionReply(option, Proto.REP_SERVER, 4 + name.length + description.length);
                        }
                        optionReply(option, Proto.REP_ACK, 0);
                    }
                }
                case Proto.OPT_INFO, Proto.OPT_GO -> {
                    Export e = infoOrGo(option, len);
                    if (e != null && option == Proto.OPT_GO) {
                        attach(e);
                        return true;
                    }
                }
                case Proto.OPT_STRUCTURED_REPLY -> {
                    if (len != 0) {
                        optionError(option, Proto.REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
                    } else if (structured) {
                        optionError(option, Proto.REP_ERR_INVALID, "structured replies are already negotiated");
                    } else {
                        structured = true;
                        optionReply(option, Proto.REP_ACK, 0);
                    }
                }
                case Proto.OPT_LIST_META_CONTEXT, Proto.OPT_SET_META_CONTEXT -> metaContext(option, len);
                case Proto.OPT_STARTTLS -> optionError(option, Proto.REP_ERR_UNSUP, "TLS is not supported");
                default -> optionError(option, Proto.REP_ERR_UNSUP, "option " + option + " is not supported");
            }
        }
    }

    /** NBD_OPT_INFO / NBD_OPT_GO: answers, and returns the export when it succeeded. */
    private Export infoOrGo(int option, int len) {
        if (len < 6) {
            optionError(option, Proto.REP_ERR_INVALID, "request too short");
            return null;
        }
        long nameLen = Integer.toUnsignedLong(in.get(L.u32, 0));
        if (nameLen > len - 6) {
            optionError(option, Proto.REP_ERR_INVALID, "name length " + nameLen + " exceeds the option");
            return null;
        }
        int n = (int) nameLen;
        int requests = Short.toUnsignedInt(in.get(L.u16, 4 + n));
        if (len != 4 + n + 2 + 2 * requests) {
            optionError(option, Proto.REP_ERR_INVALID, "option length " + len + " does not match " + requests
                    + " information requests");
            return null;
        }
        String name = utf8(in, 4, n);
        Export e = server.findExport(name);
        if (e == null) {
            optionError(option, Proto.REP_ERR_UNKNOWN, "export " + printable(name) + " not found");
            return null;
        }
        boolean wantName = false;
        boolean wantDescription = false;
        for (int i = 0; i < requests; i++) {
            int type = Short.toUnsignedInt(in.get(L.u16, 4 + n + 2 + 2L * i));
            wantName |= type == Proto.INFO_NAME;
            wantDescription |= type == Proto.INFO_DESCRIPTION;
        }
        // NBD_INFO_EXPORT
        out.set(L.u16, 20, (short) Proto.INFO_EXPORT);
        out.set(L.u64, 22, e.size);
        out.set(L.u16, 30, (short) e.transmissionFlags());
        optionReply(option, Proto.REP_INFO, 12);
        if (wantName) {
            byte[] b = e.nameBytes();
            out.set(L.u16, 20, (short) Proto.INFO_NAME);
            MemorySegment.copy(b, 0, out, JAVA_BYTE, 22, b.length);
            optionReply(option, Proto.REP_INFO, 2 + b.length);
        }
        if (wantDescription && e.descriptionBytes().length > 0) {
            byte[] b = e.descriptionBytes();
            out.set(L.u16, 20, (short) Proto.INFO_DESCRIPTION);
            MemorySegment.copy(b, 0, out, JAVA_BYTE, 22, b.length);
            optionReply(option, Proto.REP_INFO, 2 + b.length);
        }
        // NBD_INFO_BLOCK_SIZE: any byte offset and length works (the server aligns for O_DIRECT).
        out.set(L.u16, 20, (short) Proto.INFO_BLOCK_SIZE);
        out.set(L.u32, 22, 1);
        out.set(L.u32, 26, e.preferredBlockSize());
        out.set(L.u32, 30, Proto.MAX_PAYLOAD);
        optionReply(option, Proto.REP_INFO, 14);
        optionReply(option, Proto.REP_ACK, 0);
        return e;
    }

    /**
     * NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT: the one context served is
     * base:allocation; queries for it, for "base:", or (LIST only) no query at all match it.
     */
    private void metaContext(int option, int len) {
        boolean set = option == Proto.OPT_SET_META_CONTEXT;
        if (set && !structured) {
            optionError(option, Proto.REP_ERR_INVALID, "NBD_OPT_SET_META_CONTEXT needs structured replies first");
            return;
        }
        if (len < 8) {
            optionError(option, Proto.REP_ERR_INVALID, "request too short");
            return;
        }
        long nameLen = Integer.toUnsignedLong(in.get(L.u32, 0));
        if (nameLen > len - 8) {
            optionError(option, Proto.REP_ERR_INVALID, "name length " + nameLen + " exceeds the option");
            return;
        }
        String name = utf8(in, 4, (int) nameLen);
        long pos = 4 + nameLen;
        long queries = Integer.toUnsignedLong(in.get(L.u32, pos));
        pos += 4;
        boolean match = !set && queries == 0;
        for (long q = 0; q < queries; q++) {
            if (pos + 4 > len) {
                optionError(option, Proto.REP_ERR_INVALID, "query " + q + " runs past the option");
                return;
            }
            long qLen = Integer.toUnsignedLong(in.get(L.u32, pos));
            pos += 4;
            if (qLen > len - pos) {
                optionError(option, Proto.REP_ERR_INVALID, "query " + q + " runs past the option");
                return;
            }
            String query = utf8(in, pos, (int) qLen);
            pos += qLen;
            match |= query.equals(Proto.BASE_ALLOCATION) || (!set && query.equals("base:"));
        }
        if (pos != len) {
            optionError(option, Proto.REP_ERR_INVALID, "option length " + len + " does not match its queries");
            return;
        }
        if (server.findExport(name) == null) {
            optionError(option, Proto.REP_ERR_UNKNOWN, "export " + printable(name) + " not found");
            return;
        }
        if (set) {
            metaExport = match ? name : null;
        }
        if (match) {
            byte[] b = Proto.BASE_ALLOCATION.getBytes(StandardCharsets.UTF_8);
            out.set(L.u32, 20, Proto.BASE_ALLOCATION_ID);
            MemorySegment.copy(b, 0, out, JAVA_BYTE, 24, b.length);
            optionReply(option, Proto.REP_META_CONTEXT, 4 + b.length);
        }
        optionReply(option, Proto.REP_ACK, 0);
    }

    /** Sends an option reply whose {@code dataLen} bytes of data are already at out[20..]. */
    private void optionReply(int option, int type, int dataLen) {
        out.set(L.u64, 0, Proto.OPTION_REPLY_MAGIC);
        out.set(L.u32, 8, option);
        out.set(L.u32, 12, type);
        out.set(L.u32, 16, dataLen);
        writeFully(out, 20L + dataLen);
    }

    private void optionError(int option, int type, String message) {
        byte[] b = message.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(b, 0, out, JAVA_BYTE, 20, b.length);
        optionReply(option, type, b.length);
        LOG.log(System.Logger.Level.DEBUG, () -> "NBD client " + peer + ": option " + option + ": " + message);
    }

    private void attach(Export e) {
        if (handshakeTimer != null) {
            handshakeTimer.cancel();
            handshakeTimer = null;
        }
        blockStatus = structured && e.name().equals(metaExport);
        if (e.attach(this)) {
            export = e;
        } else {
            // Removed between its negotiation and now (another lane's thread removed it):
            // end as a connection of a removed export does.
            stopping = true;
        }
    }

    /** The request loop, with back-pressure at MAX_REQUESTS in flight. */
    private void transmission() {
        while (!stopping) {
            while (inFlight >= Proto.MAX_REQUESTS && !stopping) {
                recvWait = RecvWait.SLOT;
                while (recvWait == RecvWait.SLOT) {
                    Coroutines.yieldNow();
                }
            }
            if (stopping) {
                return;
            }
            readFully(in, Proto.REQUEST_SIZE);
            int magic = in.get(L.u32, 0);
            if (magic != Proto.REQUEST_MAGIC) {
                throw new ProtocolError("bad request magic 0x" + Integer.toHexString(magic));
            }
            int flags = Short.toUnsignedInt(in.get(L.u16, 4));
            int type = Short.toUnsignedInt(in.get(L.u16, 6));
            long cookie = in.get(L.u64, 8);
            long offset = in.get(L.u64, 16);
            long length = Integer.toUnsignedLong(in.get(L.u32, 24));
            export.requests.incrementAndGet();
            if (type == Proto.CMD_DISC) {
                LOG.log(System.Logger.Level.DEBUG, () -> "NBD client " + peer + ": soft disconnect");
                stopping = true;
                return;
            }
            int error = validate(type, flags, offset, length);
            BufferPool.Buffer payload = null;
            if (type == Proto.CMD_WRITE) {
                if (length > Proto.MAX_PAYLOAD) {
                    // The payload cannot be skipped without reading it: answer, then hard disconnect.
                    spawn(new Request(type, flags, cookie, offset, length, Proto.EINVAL, null));
                    throw new ProtocolError("NBD_CMD_WRITE of " + length + " bytes exceeds the "
                            + Proto.MAX_PAYLOAD + "-byte maximum");
                }
                if (error != 0) {
                    discard(length);
                } else if (length > 0) {
                    payload = lane.pool.get(export.writeBufferSize(offset, length));
                    try {
                        readFully(payload.segment.asSlice(export.writePayloadPos(offset, length)), length);
                    } catch (RuntimeException e) {
                        lane.pool.put(payload);
                        throw e;
                    }
                }
            }
            spawn(new Request(type, flags, cookie, offset, length, error, payload));
        }
    }

    private void discard(long length) {
        long left = length;
        while (left > 0) {
            long n = Math.min(left, IO_BUFFER);
            readFully(in, n);
            left -= n;
        }
    }

    /** 0, or the NBD error a request gets without touching the disk. */
    private int validate(int type, int flags, long offset, long length) {
        int allowed = Proto.CMD_FLAG_FUA;
        if (type == Proto.CMD_WRITE_ZEROES) {
            allowed |= Proto.CMD_FLAG_NO_HOLE | Proto.CMD_FLAG_FAST_ZERO;
        } else if (type == Proto.CMD_BLOCK_STATUS) {
            allowed |= Proto.CMD_FLAG_REQ_ONE;
        }
        boolean writes = type == Proto.CMD_WRITE || type == Proto.CMD_WRITE_ZEROES;
        switch (type) {
            case Proto.CMD_READ, Proto.CMD_WRITE, Proto.CMD_TRIM, Proto.CMD_WRITE_ZEROES, Proto.CMD_FLUSH -> {
            }
            case Proto.CMD_BLOCK_STATUS -> {
                if (!blockStatus) {
                    return Proto.EINVAL; // no metadata context was negotiated
                }
            }
            default -> {
                return Proto.EINVAL;
            }
        }
        if ((flags & ~allowed) != 0) {
            return Proto.EINVAL;
        }
        if (export.spec.readOnly() && (writes || type == Proto.CMD_TRIM)) {
            return Proto.EPERM;
        }
        if (type == Proto.CMD_FLUSH) {
            return 0;
        }
        if (type == Proto.CMD_READ && length > Proto.MAX_PAYLOAD) {
            return Proto.EINVAL;
        }
        // offset is unsigned on the wire: anything at or past 2^63 is past the end too.
        if (offset < 0 || offset > export.size || length > export.size - offset) {
            return writes ? Proto.ENOSPC : Proto.EINVAL;
        }
        return 0;
    }

    // ------------------------------------------------------------------ requests

    private record Request(int type, int flags, long cookie, long offset, long length, int error,
                           BufferPool.Buffer payload) {
    }

    private void spawn(Request r) {
        inFlight++;
        Coroutine co = Coroutines.create("nbd-req", () -> runRequest(r));
        Coroutines.enter(ctx, co);
    }

    private void runRequest(Request r) {
        jdk.jfr.Event timing = NbdRequestEvent.start(); // null unless a recording wants requests
        BufferPool.Buffer buf = r.payload();
        Export e = export;
        int err = r.error();
        try {
            long dataPos = 0;
            long[] extents = null;
            boolean fua = (r.flags() & Proto.CMD_FLAG_FUA) != 0;
            if (err == 0 && (r.length() > 0 || r.type() == Proto.CMD_FLUSH)) {
                switch (r.type()) {
                    case Proto.CMD_READ -> {
                        buf = lane.pool.get(e.readBufferSize(r.offset(), r.length()));
                        err = e.read(lane, r.offset(), r.length(), buf.segment);
                        dataPos = e.readDataPos(r.offset(), r.length());
                        if (err == 0) {
                            e.bytesRead.addAndGet(r.length());
                        }
                    }
                    case Proto.CMD_WRITE -> {
                        err = e.write(lane, r.offset(), r.length(), buf.segment, fua);
                        if (err == 0) {
                            e.bytesWritten.addAndGet(r.length());
                        }
                    }
                    case Proto.CMD_FLUSH -> err = e.flush(lane);
                    case Proto.CMD_TRIM -> err = e.trim(lane, r.offset(), r.length(), fua);
                    case Proto.CMD_WRITE_ZEROES -> err = e.writeZeroes(lane, r.offset(), r.length(),
                            (r.flags() & Proto.CMD_FLAG_NO_HOLE) != 0, (r.flags() & Proto.CMD_FLAG_FAST_ZERO) != 0,
                            fua);
                    case Proto.CMD_BLOCK_STATUS -> {
                        extents = e.extents(lane, r.offset(), r.length(),
                                (r.flags() & Proto.CMD_FLAG_REQ_ONE) != 0 ? 1 : Proto.MAX_EXTENTS);
                        err = extents == null ? Proto.EIO : 0;
                    }
                    default -> err = Proto.EINVAL;
                }
            }
            if (err != 0) {
                e.errors.incrementAndGet();
            }
            reply(r, err, buf, dataPos, extents);
        } catch (Closed c) {
            // the reply could not be sent; the connection is going away
        } catch (RuntimeException ex) {
            LOG.log(System.Logger.Level.ERROR, "NBD client " + peer + ": " + Proto.commandName(r.type())
                    + " failed unexpectedly", ex);
            forced = true;
        } finally {
            NbdRequestEvent.finish(timing, e.name(), peer, r.type(), r.offset(), r.length(), err);
            if (buf != null) {
                lane.pool.put(buf);
            }
            inFlight--;
            if (recvWait == RecvWait.SLOT) {
                recvWait = RecvWait.NONE;
                Coroutines.enter(ctx, receiver);
            }
            maybeFinish();
        }
    }

    private void reply(Request r, int err, BufferPool.Buffer buf, long dataPos, long[] extents) {
        sendLock.lock();
        try {
            if (forced) {
                throw new Closed("abandoned");
            }
            boolean read = r.type() == Proto.CMD_READ;
            boolean structuredOnly = read || r.type() == Proto.CMD_BLOCK_STATUS;
            if (err == 0 && r.type() == Proto.CMD_BLOCK_STATUS && extents != null && extents.length > 0) {
                int n = extents.length / 2;
                structuredHeader(Proto.REPLY_TYPE_BLOCK_STATUS, r.cookie(), 4 + 8 * n);
                out.set(L.u32, 20, Proto.BASE_ALLOCATION_ID);
                for (int i = 0; i < n; i++) {
                    out.set(L.u32, 24 + 8L * i, (int) extents[2 * i]);
                    out.set(L.u32, 28 + 8L * i, (int) extents[2 * i + 1]);
                }
                writeFully(out, 24 + 8L * n);
            } else if (err == 0 && read && r.length() > 0) {
                MemorySegment seg = buf.segment;
                if (structured) {
                    long h = dataPos - 28;
                    seg.set(L.u32, h, Proto.STRUCTURED_REPLY_MAGIC);
                    seg.set(L.u16, h + 4, (short) Proto.REPLY_FLAG_DONE);
                    seg.set(L.u16, h + 6, (short) Proto.REPLY_TYPE_OFFSET_DATA);
                    seg.set(L.u64, h + 8, r.cookie());
                    seg.set(L.u32, h + 16, (int) (8 + r.length()));
                    seg.set(L.u64, h + 20, r.offset());
                    writeFully(seg.asSlice(h), 28 + r.length());
                } else {
                    long h = dataPos - 16;
                    simpleHeader(seg, h, 0, r.cookie());
                    writeFully(seg.asSlice(h), 16 + r.length());
                }
            } else if (structuredOnly && structured) {
                if (err == 0) {
                    structuredHeader(Proto.REPLY_TYPE_NONE, r.cookie(), 0);
                    writeFully(out, 20);
                } else {
                    byte[] msg = (Proto.commandName(r.type()) + " of " + r.length() + " bytes at " + r.offset()
                            + " failed").getBytes(StandardCharsets.UTF_8);
                    structuredHeader(Proto.REPLY_TYPE_ERROR, r.cookie(), 6 + msg.length);
                    out.set(L.u32, 20, err);
                    out.set(L.u16, 24, (short) msg.length);
                    MemorySegment.copy(msg, 0, out, JAVA_BYTE, 26, msg.length);
                    writeFully(out, 26 + msg.length);
                }
            } else {
                simpleHeader(out, 0, err, r.cookie());
                writeFully(out, 16);
            }
        } finally {
            sendLock.unlock();
        }
    }

    private static void simpleHeader(MemorySegment seg, long h, int err, long cookie) {
        seg.set(L.u32, h, Proto.SIMPLE_REPLY_MAGIC);
        seg.set(L.u32, h + 4, err);
        seg.set(L.u64, h + 8, cookie);
    }

    private void structuredHeader(int type, long cookie, int length) {
        out.set(L.u32, 0, Proto.STRUCTURED_REPLY_MAGIC);
        out.set(L.u16, 4, (short) Proto.REPLY_FLAG_DONE);
        out.set(L.u16, 6, (short) type);
        out.set(L.u64, 8, cookie);
        out.set(L.u32, 16, length);
    }

    // ------------------------------------------------------------------ ending

    /**
     * Stops reading requests (export removed, server closing): requests in flight complete
     * and reply; after {@link #GRACE_MS} replies still unsent are abandoned. Home thread,
     * outside coroutines.
     */
    void stop() {
        if (finished) {
            return;
        }
        stopping = true;
        if (receiver == null) {
            return; // not started yet: start() sees the stop
        }
        armGrace();
        wakeReceiver();
    }

    private void wakeReceiver() {
        if (recvWait != RecvWait.NONE) {
            recvWait = RecvWait.NONE;
            Coroutines.enter(ctx, receiver);
        }
    }

    private void armGrace() {
        if (graceTimer == null && !finished) {
            graceTimer = ctx.newTimer(ClockType.REALTIME, TimeScale.NS, this::graceOver);
            graceTimer.modNs(ctx.clocks().nowNs(ClockType.REALTIME) + GRACE_MS * 1_000_000);
        }
    }

    /** The grace period is over: writers blocked on a client that does not read give up. */
    /**
     * The grace period after a stop is over: a reply blocked on a client that does not read
     * is abandoned. Requests still busy with the disk are not: the period starts again.
     */
    private void graceOver() {
        if (finished) {
            return;
        }
        if (writeWaiter == null) {
            graceTimer.modNs(ctx.clocks().nowNs(ClockType.REALTIME) + GRACE_MS * 1_000_000);
            return;
        }
        LOG.log(System.Logger.Level.INFO, () -> "NBD client " + peer + ": replies not taken within " + GRACE_MS
                + " ms; closing the connection");
        abandon();
    }

    /** Waiting writers and the receiver give up; the connection ends. */
    private void abandon() {
        if (finished) {
            return;
        }
        forced = true;
        Coroutine w = writeWaiter;
        if (w != null) {
            writeWaiter = null;
            Coroutines.enter(ctx, w);
        }
        wakeReceiver();
    }

    private void maybeFinish() {
        if (finished || !receiverDone || inFlight > 0) {
            return;
        }
        finished = true;
        if (graceTimer != null) {
            graceTimer.cancel();
            graceTimer = null;
        }
        if (handshakeTimer != null) {
            handshakeTimer.cancel();
            handshakeTimer = null;
        }
        if (regRead || regWrite) {
            ctx.removeFdHandler(fd);
        }
        if (forced) {
            // Abandoned or broken: reset rather than leave the kernel holding replies (up to
            // megabytes) for a client that does not read them.
            try {
                Sockets.resetOnClose(fd);
            } catch (SyscallException ignored) {
                // the socket is already gone
            }
        }
        Fds.close(fd);
        if (export != null) {
            export.detach(this);
        }
        // The coroutines that used the buffers have all returned.
        arena.close();
        // This may run inside a disk completion (the last request coroutine resumed from it);
        // closing an export's engine there is not allowed, so the server hears of it from a
        // bottom half.
        server.connectionClosed(this);
    }
}
