package org.aiolos.nbd.internal;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.aiolos.nbd.internal.Wire.U16;
import static org.aiolos.nbd.internal.Wire.U32;
import static org.aiolos.nbd.internal.Wire.U64;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import org.aiolos.api.AioContext;
import org.aiolos.api.coroutine.CoMutex;
import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;
import org.aiolos.nbd.jfr.NbdRequestEvent;

/**
 * The transmission phase of one connection on one export: the receiver's request loop,
 * and one coroutine per request that does the disk I/O and sends the reply (QEMU's
 * {@code nbd_trip}, {@code nbd_handle_request} and the reply senders in
 * {@code nbd/server.c}).
 *
 * <p><b>Back-pressure.</b> At {@link Proto#MAX_REQUESTS} requests in flight the receiver
 * stops reading until one completes, so a client cannot make the server queue unbounded
 * work. Memory is bounded by bytes too (beyond QEMU, which bounds the count only: 16
 * payloads of 32 MiB): before reading a request's payload the receiver waits until it fits
 * {@link #PAYLOAD_BUDGET} for the connection and {@link Export#PAYLOAD_BUDGET} for the
 * export. A connection that holds export budget and moves no byte on its socket for the
 * stall period ({@link StallWatch}) while another connection waits for that budget is
 * disconnected, so that a few clients that stop sending payloads or reading replies cannot
 * hold the export's other clients up for as long as they keep their sockets open.
 *
 * <p>Replies take {@link #sendLock}, so a reply's header and payload go out together; a
 * read's header is written into its buffer right in front of the data, so both leave in
 * one write.
 */
final class Transmission {
    private static final System.Logger LOG = System.getLogger("org.aiolos.nbd");

    private final ServerCore server;
    /** The context the connection was placed on, and its buffers. */
    private final Lane lane;
    private final AioContext ctx;
    private final CoSocket socket;
    private final NbdStream stream;
    private final Export export;
    private final boolean structured;
    private final boolean blockStatus;
    private final String peer;
    private final MemorySegment in;
    private final MemorySegment out;
    private final Runnable requestDone;
    private final CoMutex sendLock = Coroutines.newMutex();
    private int inFlight;
    /**
     * Payload bytes (READ data, WRITE payloads) one connection may have in flight. A
     * request that finds the connection idle always fits (one is at most
     * {@link Proto#MAX_PAYLOAD}); it may still wait for the export's budget.
     */
    static final long PAYLOAD_BUDGET = 64L << 20;
    /** Payload bytes of this connection's requests in flight. */
    private long payloadInFlight;
    /** When {@link #payloadInFlight} last rose from 0 ({@link System#nanoTime}), for the stall warning. */
    private long holdingSinceNs;
    /** The receiver, while it waits for a request slot; null otherwise. */
    private Coroutine slotWaiter;
    /** The receiver is reading a WRITE's payload: a wait there is a wait for the client. */
    private boolean receivingPayload;
    /** This connection's part in the export's payload budget. */
    private final PayloadBudget.Share<Transmission> budgetShare;
    /** Looks for stalled holders while the receiver waits for the export's budget. */
    private final StallWatch stallWatch;
    /** A stall check is scheduled in this connection's context; set from any thread. */
    private final AtomicBoolean stallCheckQueued = new AtomicBoolean();
    /** Disconnected by the stall rule (it is logged once). */
    private boolean stallClosed;

    /**
     * @param socket the connection's socket, asked whether reading has stopped and told
     *     when a request failed in a way that leaves the stream unusable
     * @param stream what requests are read from and replies written to (the socket, or TLS on it)
     * @param requestDone run after each request has replied (or given up)
     */
    Transmission(ServerCore server, Lane lane, CoSocket socket, NbdStream stream, Export export,
            boolean structured, boolean blockStatus, String peer, MemorySegment in, MemorySegment out,
            Runnable requestDone) {
        this.server = server;
        this.lane = lane;
        this.ctx = lane.ctx;
        this.socket = socket;
        this.stream = stream;
        this.export = export;
        this.structured = structured;
        this.blockStatus = blockStatus;
        this.peer = peer;
        this.in = in;
        this.out = out;
        this.requestDone = requestDone;
        this.budgetShare = new PayloadBudget.Share<>(this, this::budgetGranted);
        this.stallWatch = new StallWatch(ctx, export, server);
    }

    int inFlight() {
        return inFlight;
    }

    /** Wakes the receiver if it waits for a request slot (reading has been stopped). */
    void wakeReceiver() {
        Coroutine r = slotWaiter;
        if (r != null) {
            slotWaiter = null;
            Coroutines.enter(ctx, r);
        }
    }

    /** The request loop; returns on NBD_CMD_DISC or when reading stops. Receiver coroutine. */
    void run() {
        while (!socket.readingStopped()) {
            while (inFlight >= Proto.MAX_REQUESTS && !socket.readingStopped()) {
                waitForWake();
            }
            if (socket.readingStopped()) {
                return;
            }
            stream.readFully(in, Proto.REQUEST_SIZE);
            int magic = in.get(U32, 0);
            if (magic != Proto.REQUEST_MAGIC) {
                throw new ProtocolError("bad request magic 0x" + Integer.toHexString(magic));
            }
            int flags = Short.toUnsignedInt(in.get(U16, 4));
            int type = Short.toUnsignedInt(in.get(U16, 6));
            long cookie = in.get(U64, 8);
            long offset = in.get(U64, 16);
            long length = Integer.toUnsignedLong(in.get(U32, 24));
            export.requests.incrementAndGet();
            if (type == Proto.CMD_DISC) {
                LOG.log(System.Logger.Level.DEBUG, () -> "NBD client " + peer + ": soft disconnect");
                socket.stopReading();
                return;
            }
            if (type == Proto.CMD_WRITE && length > Proto.MAX_PAYLOAD) {
                // The payload cannot be skipped without reading it: answer, then hard disconnect.
                // Nothing is taken from the budgets for a request that never gets its payload.
                spawn(new Request(type, flags, cookie, offset, length, Proto.EINVAL,
                        "length exceeds the maximum of " + Proto.MAX_PAYLOAD + " bytes", null, 0));
                throw new ProtocolError("NBD_CMD_WRITE of " + length + " bytes exceeds the "
                        + Proto.MAX_PAYLOAD + "-byte maximum");
            }
            RequestCheck check = RequestCheck.of(type, flags, offset, length, export, blockStatus);
            int error = check.error();
            long budget = error == 0 && (type == Proto.CMD_READ || type == Proto.CMD_WRITE) ? length : 0;
            if (budget > 0 && !awaitPayloadRoom(budget)) {
                return; // reading stopped while waiting
            }
            long held = budget; // given back here unless a request takes it over
            try {
                BufferPool.Buffer payload = null;
                if (type == Proto.CMD_WRITE) {
                    if (error != 0) {
                        discard(length);
                    } else if (length > 0) {
                        payload = lane.pool.get(export.writeBufferSize(offset, length));
                        receivingPayload = true;
                        try {
                            stream.readFully(payload.segment.asSlice(export.writePayloadPos(offset, length)), length);
                        } catch (RuntimeException e) {
                            lane.pool.put(payload);
                            throw e; // a payload cut off: the connection ends, and its share with it
                        } finally {
                            receivingPayload = false;
                        }
                    }
                }
                held = 0;
                spawn(new Request(type, flags, cookie, offset, length, error, check.reason(), payload, budget));
            } finally {
                if (held > 0) {
                    releaseBudget(held);
                }
            }
        }
    }

    private void discard(long length) {
        long left = length;
        while (left > 0) {
            long n = Math.min(left, in.byteSize());
            stream.readFully(in, n);
            left -= n;
        }
    }

    // ------------------------------------------------------------------ requests

    /**
     * @param error the NBD error it gets without touching the disk, or 0
     * @param reason why, for such an error
     * @param budget the bytes it holds of the connection's and the export's budgets, given back when it ends
     */
    private record Request(int type, int flags, long cookie, long offset, long length, int error, String reason,
                           BufferPool.Buffer payload, long budget) {
    }

    /**
     * Waits until {@code bytes} more payload fit the connection's budget, then for the
     * export's, in the order the export's receivers came ({@link PayloadBudget}), and
     * takes them. The client's further requests stay in the socket meanwhile (TCP
     * back-pressure), as they do at {@link Proto#MAX_REQUESTS}. Receiver coroutine.
     *
     * @return false if reading stopped while waiting
     */
    private boolean awaitPayloadRoom(long bytes) {
        // Over this connection's own budget, its own requests wake the receiver as they end.
        while (!socket.readingStopped() && !connectionFits(bytes)) {
            waitForWake();
        }
        if (socket.readingStopped()) {
            return false;
        }
        // Queued, only this connection's requests ending can change its own budget, for the better.
        if (!export.budget.takeOrQueue(budgetShare, bytes)) {
            // A release by any connection hands the bytes over in turn; connections that
            // stall the export meanwhile are looked for.
            stallWatch.start();
            boolean granted = false;
            try {
                while (!socket.readingStopped() && !(granted = export.budget.claim(budgetShare))) {
                    waitForWake();
                }
            } finally {
                stallWatch.stop();
                if (!granted) {
                    // Out of the queue, and what came too late is passed on to those behind.
                    export.budget.leaveQueue(budgetShare);
                }
            }
            if (!granted) {
                return false;
            }
        }
        if (payloadInFlight == 0) {
            holdingSinceNs = System.nanoTime();
        }
        payloadInFlight += bytes;
        return true;
    }

    /** The receiver yields until {@link #wakeReceiver}. Receiver coroutine. */
    private void waitForWake() {
        Coroutine self = Coroutines.self();
        slotWaiter = self;
        while (slotWaiter == self) {
            Coroutines.yieldNow();
        }
    }

    /** A request always fits a connection with nothing in flight (one is at most {@link Proto#MAX_PAYLOAD}). */
    private boolean connectionFits(long bytes) {
        return inFlight == 0 || payloadInFlight + bytes <= PAYLOAD_BUDGET;
    }

    /** Gives back what {@link #awaitPayloadRoom} took; may wake this connection's receiver, or another's. */
    private void releaseBudget(long bytes) {
        payloadInFlight -= bytes;
        export.budget.release(budgetShare, bytes);
    }

    /** When bytes last moved on this connection's socket; any thread. */
    long lastProgressNs() {
        return socket.lastProgressNs();
    }

    /**
     * From another connection's {@link StallWatch}, on any thread: this connection holds
     * export budget and its socket has been idle for the stall period. The check and the
     * disconnection happen in this connection's own context, which owns its state.
     */
    void stallSuspected() {
        if (!stallCheckQueued.compareAndSet(false, true)) {
            return;
        }
        try {
            ctx.scheduleOneshot("nbd-stall-check", this::checkStall);
        } catch (IllegalStateException closed) {
            // The context is closed, and the connection with it.
            stallCheckQueued.set(false);
        }
    }

    /**
     * Disconnects this connection if it still holds export budget, has moved no byte for
     * the stall period, waits on the client (for a WRITE's payload, or to send a reply) rather
     * than on the disk, and another connection waits for the budget. Closing gives the
     * budget back: the payload read and the reply writes end with ConnectionClosed. Home
     * thread, outside coroutines.
     */
    private void checkStall() {
        stallCheckQueued.set(false);
        long now = System.nanoTime();
        long idleNs = now - socket.lastProgressNs();
        if (stallClosed || socket.broken() || payloadInFlight == 0 || idleNs < server.stallPeriodNs()
                || !(receivingPayload || socket.writerWaiting())) {
            return;
        }
        int waiting = export.budget.waitingOtherThan(budgetShare);
        if (waiting == 0) {
            return;
        }
        stallClosed = true;
        LOG.log(System.Logger.Level.WARNING, "NBD client " + peer + " on export '" + export.name()
                + "': no bytes read or written for " + idleNs / 1_000_000 + " ms while holding " + payloadInFlight
                + " bytes of the export's payload budget (for " + (now - holdingSinceNs) / 1_000_000 + " ms), with "
                + waiting + (waiting == 1 ? " other connection" : " other connections")
                + " waiting for it; closing the connection");
        socket.abandon();
        wakeReceiver();
    }

    /** From the export's budget, on any thread: the bytes the receiver queued for are its to claim. */
    private void budgetGranted() {
        // Export payload is released by connections of any IOThread; the receiver's state
        // belongs to its own.
        if (ctx.inHomeThread()) {
            wakeReceiver();
        } else {
            ctx.scheduleOneshot("nbd-budget-released", this::wakeReceiver);
        }
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
            reply(r, err, r.error() != 0 ? r.reason() : diskFailure(r.type()), buf, dataPos, extents);
        } catch (ConnectionClosed c) {
            // the reply could not be sent; the connection is going away
        } catch (RuntimeException ex) {
            LOG.log(System.Logger.Level.ERROR, "NBD client " + peer + ": " + Proto.commandName(r.type())
                    + " failed unexpectedly", ex);
            socket.markBroken();
        } finally {
            NbdRequestEvent.finish(timing, e.name(), peer, r.type(), r.offset(), r.length(), err);
            if (buf != null) {
                lane.pool.put(buf);
            }
            inFlight--;
            if (r.budget() > 0) {
                releaseBudget(r.budget());
            }
            wakeReceiver();
            requestDone.run();
        }
    }

    // ------------------------------------------------------------------ replies

    /** Why a request the checks let through failed: the export logged the errno, the client learns what failed. */
    private static String diskFailure(int type) {
        return switch (type) {
            case Proto.CMD_READ -> "reading the file failed";
            case Proto.CMD_BLOCK_STATUS -> "looking up the file's holes failed";
            default -> Proto.commandName(type) + " on the file failed";
        };
    }

    /** @param reason why it failed, for the error chunk of a structured reply */
    private void reply(Request r, int err, String reason, BufferPool.Buffer buf, long dataPos, long[] extents) {
        sendLock.lock();
        try {
            if (socket.broken()) {
                throw new ConnectionClosed("abandoned");
            }
            boolean read = r.type() == Proto.CMD_READ;
            boolean structuredOnly = read || r.type() == Proto.CMD_BLOCK_STATUS;
            if (err == 0 && r.type() == Proto.CMD_BLOCK_STATUS && extents != null && extents.length > 0) {
                int n = extents.length / 2;
                structuredHeader(Proto.REPLY_TYPE_BLOCK_STATUS, r.cookie(), 4 + 8 * n);
                out.set(U32, 20, Proto.BASE_ALLOCATION_ID);
                for (int i = 0; i < n; i++) {
                    out.set(U32, 24 + 8L * i, (int) extents[2 * i]);
                    out.set(U32, 28 + 8L * i, (int) extents[2 * i + 1]);
                }
                stream.writeFully(out, 24 + 8L * n);
            } else if (err == 0 && read && r.length() > 0) {
                MemorySegment seg = buf.segment;
                if (structured) {
                    long h = dataPos - 28;
                    seg.set(U32, h, Proto.STRUCTURED_REPLY_MAGIC);
                    seg.set(U16, h + 4, (short) Proto.REPLY_FLAG_DONE);
                    seg.set(U16, h + 6, (short) Proto.REPLY_TYPE_OFFSET_DATA);
                    seg.set(U64, h + 8, r.cookie());
                    seg.set(U32, h + 16, (int) (8 + r.length()));
                    seg.set(U64, h + 20, r.offset());
                    stream.writeFully(seg.asSlice(h), 28 + r.length());
                } else {
                    long h = dataPos - 16;
                    simpleHeader(seg, h, 0, r.cookie());
                    stream.writeFully(seg.asSlice(h), 16 + r.length());
                }
            } else if (structuredOnly && structured) {
                if (err == 0) {
                    structuredHeader(Proto.REPLY_TYPE_NONE, r.cookie(), 0);
                    stream.writeFully(out, 20);
                } else {
                    // The offset is unsigned on the wire: 2^64 - 512 is no "-512".
                    byte[] msg = (Proto.commandName(r.type()) + " of " + r.length() + " bytes at "
                            + Long.toUnsignedString(r.offset()) + " failed: " + reason).getBytes(StandardCharsets.UTF_8);
                    structuredHeader(Proto.REPLY_TYPE_ERROR, r.cookie(), 6 + msg.length);
                    out.set(U32, 20, err);
                    out.set(U16, 24, (short) msg.length);
                    MemorySegment.copy(msg, 0, out, JAVA_BYTE, 26, msg.length);
                    stream.writeFully(out, 26 + msg.length);
                }
            } else {
                simpleHeader(out, 0, err, r.cookie());
                stream.writeFully(out, 16);
            }
        } finally {
            sendLock.unlock();
        }
    }

    private static void simpleHeader(MemorySegment seg, long h, int err, long cookie) {
        seg.set(U32, h, Proto.SIMPLE_REPLY_MAGIC);
        seg.set(U32, h + 4, err);
        seg.set(U64, h + 8, cookie);
    }

    private void structuredHeader(int type, long cookie, int length) {
        out.set(U32, 0, Proto.STRUCTURED_REPLY_MAGIC);
        out.set(U16, 4, (short) Proto.REPLY_FLAG_DONE);
        out.set(U16, 6, (short) type);
        out.set(U64, 8, cookie);
        out.set(U32, 16, length);
    }
}
