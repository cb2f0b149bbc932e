package org.aiolos.nbd.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;

/**
 * The life of one client connection (QEMU's {@code NBDClient} in {@code nbd/server.c}):
 * it owns the socket, the buffers and the timers, runs the receiver coroutine through the
 * {@link OptionHandshake} and then {@link Transmission}, and ends the connection.
 * Everything runs in the server context's home thread.
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
    private static final int IO_BUFFER = Proto.MAX_OPTION_LENGTH + 4096;

    private final ServerCore server;
    /** The context this connection was placed on, and its buffers. */
    private final Lane lane;
    private final AioContext ctx;
    final String peer;
    private final Arena arena = Arena.ofShared();
    private final CoSocket socket;
    /** Receiver's buffer: request headers and option payloads. */
    private final MemorySegment in;
    /** Writers' buffer: reply headers (under the send lock), option replies. */
    private final MemorySegment out;

    private Export export;
    private Transmission transmission;
    private boolean receiverDone;
    private boolean finished;
    private boolean started;
    /** A stop that came before the start (from another thread, through the lane's queue). */
    private boolean stoppedBeforeStart;
    private AioTimer graceTimer;
    private AioTimer handshakeTimer;
    /** The TLS session once STARTTLS succeeded; it says goodbye at the end. */
    private TlsStream tlsStream;

    Connection(ServerCore server, Lane lane, int fd, String peer) {
        this.server = server;
        this.lane = lane;
        this.ctx = lane.ctx;
        this.peer = peer;
        this.socket = new CoSocket(ctx, fd, arena);
        this.in = arena.allocate(IO_BUFFER, 8);
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
        socket.close();
        arena.close();
    }

    /**
     * Starts the receiver; in the lane's home thread, outside any coroutine (the accept
     * handler, or a bottom half the listener scheduled on another lane). A stop that came
     * first ends the connection at once.
     */
    void start(long handshakeTimeoutNs) {
        started = true;
        if (stoppedBeforeStart) {
            receiverDone = true;
            maybeFinish();
            return;
        }
        if (handshakeTimeoutNs > 0) {
            handshakeTimer = ctx.newTimer(ClockType.REALTIME, TimeScale.NS, () -> {
                if (export == null && !finished) {
                    LOG.log(System.Logger.Level.WARNING, "NBD client " + peer + ": negotiation not finished within "
                            + handshakeTimeoutNs / 1_000_000 + " ms; closing the connection");
                    socket.abandon();
                }
            });
            handshakeTimer.modNs(ctx.clocks().nowNs(ClockType.REALTIME) + handshakeTimeoutNs);
        }
        Coroutine receiver = Coroutines.create("nbd-recv-" + peer, this::receive);
        Coroutines.enter(ctx, receiver);
    }

    private void receive() {
        try {
            ServerTls tls = server.tls();
            OptionHandshake handshake = new OptionHandshake(server, socket, peer, in, out,
                    tls == null ? null : () -> startTls(tls), tls != null && tls.required());
            Export e = handshake.run();
            if (e != null && attach(e)) {
                transmission = new Transmission(server, lane, socket, handshake.stream(), e, handshake.structured(),
                        handshake.blockStatusFor(e), peer, in, out, this::maybeFinish);
                transmission.run();
            }
        } catch (ConnectionClosed e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "NBD client " + peer + ": " + e.getMessage());
        } catch (TlsStream.TlsFailure e) {
            LOG.log(System.Logger.Level.WARNING, "NBD client " + peer + ": " + e.getMessage()
                    + "; closing the connection");
        } catch (ProtocolError e) {
            LOG.log(System.Logger.Level.WARNING, "NBD client " + peer + ": " + e.getMessage()
                    + "; closing the connection");
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "NBD client " + peer + ": unexpected failure; closing the connection",
                    e);
        } finally {
            receiverDone = true;
            socket.stopReading();
            if (inFlight() > 0) {
                armGrace();
            }
            maybeFinish();
        }
    }

    private TlsStream startTls(ServerTls tls) {
        TlsStream s = TlsStream.handshake(socket, tls, ctx.threadPool(), lane);
        tlsStream = s;
        LOG.log(System.Logger.Level.DEBUG, () -> "NBD client " + peer + ": " + s.protocol()
                + (s.peerName() == null ? "" : ", client " + s.peerName()));
        return s;
    }

    private int inFlight() {
        return transmission == null ? 0 : transmission.inFlight();
    }

    /** False when the export was removed meanwhile (by another lane's thread): the connection then ends. */
    private boolean attach(Export e) {
        if (handshakeTimer != null) {
            handshakeTimer.cancel();
            handshakeTimer = null;
        }
        if (!e.attach(this)) {
            return false;
        }
        export = e;
        return true;
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
        if (!started) {
            stoppedBeforeStart = true; // start() ends it
            return;
        }
        armGrace();
        socket.stopReading();
        if (transmission != null) {
            transmission.wakeReceiver();
        }
    }

    private void armGrace() {
        if (graceTimer == null && !finished) {
            graceTimer = ctx.newTimer(ClockType.REALTIME, TimeScale.NS, this::graceOver);
            graceTimer.modNs(ctx.clocks().nowNs(ClockType.REALTIME) + GRACE_MS * 1_000_000);
        }
    }

    /**
     * The grace period after a stop is over: a reply blocked on a client that does not read
     * is abandoned. Requests still busy with the disk are not: the period starts again.
     */
    private void graceOver() {
        if (finished) {
            return;
        }
        if (!socket.writerWaiting()) {
            graceTimer.modNs(ctx.clocks().nowNs(ClockType.REALTIME) + GRACE_MS * 1_000_000);
            return;
        }
        LOG.log(System.Logger.Level.INFO, () -> "NBD client " + peer + ": replies not taken within " + GRACE_MS
                + " ms; closing the connection");
        socket.abandon();
        if (transmission != null) {
            transmission.wakeReceiver();
        }
    }

    private void maybeFinish() {
        if (finished || !receiverDone || inFlight() > 0) {
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
        if (tlsStream != null) {
            tlsStream.closeNotify(); // no request, reply or handshake is running any more
        }
        socket.close();
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
