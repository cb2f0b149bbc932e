package org.aiolos.nbd.internal;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.security.auth.x500.X500Principal;
import org.aiolos.api.coroutine.CoMutex;
import org.aiolos.api.coroutine.Coroutines;
import org.aiolos.api.threadpool.ThreadPool;

/**
 * A TLS session on a {@link CoSocket}, driven by the JDK's {@link SSLEngine} from the
 * connection's coroutines in its home thread (QEMU's {@code QIOChannelTLS} in
 * {@code io/channel-tls.c} over GnuTLS). No thread is blocked per connection: socket
 * waits yield the coroutine as plaintext I/O does, and the engine's delegated tasks
 * (certificate checks, key exchange) run on the context's thread pool while the coroutine
 * yields, so a slow handshake never stalls the loop.
 *
 * <p>One reader (the receiver) unwraps; writers wrap under {@link #wrapLock}, so two
 * wraps never interleave their records on the socket.
 *
 * <p><b>No record without data after the handshake.</b> What the engine has to say once the
 * session is up (the answer to a client's key update, this side's request for new keys,
 * the JDK's own update of its write key) is left queued in the engine and goes out with
 * the next reply, ahead of its first record: RFC 8446 (4.6.3) asks for the answer only
 * before the next application data. Sent alone from the receiver, such a record hangs
 * libnbd, and with it nbdcopy, nbdfuse and fio's nbd engine: when the socket turns
 * readable while it is blocked sending a write's payload, libnbd pauses the payload to
 * read a reply ({@code ISSUE_COMMAND.PAUSE_WRITE_PAYLOAD}); a record that decrypts to
 * nothing leaves it waiting in {@code REPLY.START} (generator/states-reply.c) for a reply
 * that cannot come before the rest of the payload, and the receiver waits for that payload.
 * One exception bounds what the engine holds (a queued message and a cipher per answer): a
 * client that asks for new keys again before a reply has carried the first answer is
 * answered at once. libnbd never asks.
 */
final class TlsStream implements NbdStream {
    private static final System.Logger LOG = System.getLogger("org.aiolos.nbd");
    /** Records wrapped into one socket write. */
    private static final int RECORDS_PER_WRITE = 4;
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final CoSocket socket;
    private final SSLEngine engine;
    private final ThreadPool pool;
    /*
     * The engine's buffers are heap buffers, as Netty gives the JDK's engine: its record
     * layer and AES-GCM take faster paths for arrays than for direct buffers (a 4 KiB
     * request's TLS round at both ends: 0.88x the time for writes, 0.77x for reads, 1.2 KB
     * less garbage, in TlsRecordBenchmark). The socket reads through the connection's
     * read-ahead buffer and writes through the lane's writeStage.
     */
    /** Ciphertext read from the socket, in write mode: [0, position) is not yet unwrapped. */
    private final ByteBuffer netIn;
    private final MemorySegment netInSeg;
    /** Plaintext unwrapped, in read mode: [position, limit) is not yet consumed. */
    private final ByteBuffer appIn;
    private final MemorySegment appInSeg;
    /** Ciphertext to send, filled by wrap and written out before the next wrap. */
    private final ByteBuffer netOut;
    private final MemorySegment netOutSeg;
    /** Native memory shared by the lane's sessions, holding ciphertext only between a copy and its write(2). */
    private final MemorySegment writeStage;
    private final int packetSize;
    private final CoMutex wrapLock = Coroutines.newMutex();
    /** Bytes read under the current key after which this side asks for new keys ({@link TlsKeyLimits}). */
    private long rekeyAfter = Long.MAX_VALUE;
    /** Bytes the client may still send before that; {@code Long.MAX_VALUE} once asked, until its KeyUpdate. */
    private long readKeyBudget = Long.MAX_VALUE;
    /** The client's key updates the engine holds an answer to since a reply last went out. */
    private int answersWaiting;
    /** The session is TLS 1.3, where a handshake message after the handshake is a key update, never a new handshake. */
    private boolean tls13;
    /** The client asked for a TLS 1.2 renegotiation: the engine waits for a handshake that will not happen, writers give up. */
    private boolean renegotiationRefused;

    private TlsStream(CoSocket socket, SSLEngine engine, ThreadPool pool, Lane lane) {
        this.socket = socket;
        this.engine = engine;
        this.pool = pool;
        this.packetSize = engine.getSession().getPacketBufferSize();
        // Each buffer keeps its segment, so copies need no view per call.
        this.netIn = ByteBuffer.allocate(2 * packetSize);
        this.netInSeg = MemorySegment.ofArray(netIn.array());
        this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize()).flip();
        this.appInSeg = MemorySegment.ofArray(appIn.array());
        this.netOut = ByteBuffer.allocate(RECORDS_PER_WRITE * packetSize);
        this.netOutSeg = MemorySegment.ofArray(netOut.array());
        this.writeStage = lane.tlsWriteStage(netOut.capacity());
    }

    /**
     * Runs the server side of the TLS handshake on {@code socket} (the STARTTLS reply has
     * been sent) and returns the session. Receiver coroutine.
     *
     * @throws TlsFailure when the handshake fails (the alert has been sent where possible)
     * @throws ConnectionClosed when the client goes away meanwhile
     */
    static TlsStream handshake(CoSocket socket, ServerTls tls, ThreadPool pool, Lane lane) {
        SSLEngine engine;
        try {
            engine = pool.submitCo(tls::newEngine);
        } catch (Exception e) {
            throw new IllegalStateException("NBD TLS: no engine: " + e, e);
        }
        TlsStream s = new TlsStream(socket, engine, pool, lane);
        s.runHandshake();
        return s;
    }

    /** The handshake failed: the message says why, {@link #refusedDn} names a client refused by the allow-list. */
    static final class TlsFailure extends RuntimeException {
        final String refusedDn;

        TlsFailure(String why, String refusedDn, Throwable cause) {
            super(why, cause, false, false);
            this.refusedDn = refusedDn;
        }
    }

    /** The authenticated client certificate's subject (RFC 2253), or null when the client sent none. */
    String peerName() {
        X500Principal p = peerPrincipal();
        return p == null ? null : ServerTls.displayName(p);
    }

    /** {@link #peerName()} in RFC 2253 canonical form, as allow-lists hold names; or null. */
    String peerCanonicalName() {
        X500Principal p = peerPrincipal();
        return p == null ? null : p.getName(X500Principal.CANONICAL);
    }

    private X500Principal peerPrincipal() {
        try {
            var certs = engine.getSession().getPeerCertificates();
            return certs.length == 0 ? null : ((X509Certificate) certs[0]).getSubjectX500Principal();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    String protocol() {
        return engine.getSession().getProtocol() + " " + engine.getSession().getCipherSuite();
    }

    private void runHandshake() {
        try {
            engine.beginHandshake();
            while (true) {
                switch (engine.getHandshakeStatus()) {
                    case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> unwrapOnce();
                    case NEED_WRAP -> wrapHandshake();
                    case NEED_TASK -> runTasks();
                    case FINISHED, NOT_HANDSHAKING -> {
                        tls13 = "TLSv1.3".equals(engine.getSession().getProtocol());
                        rekeyAfter = TlsKeyLimits.rekeyAfter(engine.getSession().getProtocol(),
                                engine.getSession().getCipherSuite());
                        readKeyBudget = rekeyAfter;
                        return;
                    }
                }
            }
        } catch (SSLException e) {
            throw failure(e, true);
        }
    }

    /** @param handshake whether it failed in the handshake, or later on a session in use */
    private TlsFailure failure(SSLException e, boolean handshake) {
        // The engine has an alert for the peer: send it if the socket still takes it.
        try {
            engine.closeOutbound();
            wrapLock.lock();
            try {
                while (!engine.isOutboundDone()) {
                    netOut.clear();
                    SSLEngineResult r = engine.wrap(EMPTY, netOut);
                    flushNetOut();
                    if (r.bytesProduced() == 0) {
                        break;
                    }
                }
            } finally {
                wrapLock.unlock();
            }
        } catch (SSLException | ConnectionClosed ignored) {
            // the peer is told nothing more
        }
        String refused = null;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ServerTls.ClientNotAllowed n) {
                refused = n.dn;
            }
        }
        String why = refused != null ? "TLS client certificate '" + refused + "' is not on the allow-list; refused"
                : (handshake ? "TLS handshake failed: " : "TLS session failed: ") + e.getMessage();
        return new TlsFailure(why, refused, e);
    }

    /** Runs the engine's delegated tasks on the thread pool while this coroutine yields. */
    private void runTasks() {
        List<Runnable> tasks = new ArrayList<>(2);
        for (Runnable t = engine.getDelegatedTask(); t != null; t = engine.getDelegatedTask()) {
            tasks.add(t);
        }
        try {
            pool.submitCo(() -> {
                for (Runnable t : tasks) {
                    t.run();
                }
                return null;
            });
        } catch (Exception e) {
            throw new IllegalStateException("NBD TLS: a handshake task failed: " + e, e);
        }
    }

    /**
     * Asks the client for new keys once, at half the JDK's read-side key limit, so that the
     * engine never reaches the limit and sends a KeyUpdate per record read
     * ({@link TlsKeyLimits}). In TLS 1.3 {@code beginHandshake} queues a KeyUpdate with
     * {@code update_requested}, behind whatever records are already wrapped, and takes a new
     * write key after it; the next reply carries it and the client answers with its own.
     */
    private void requestKeyUpdate() throws SSLException {
        LOG.log(System.Logger.Level.DEBUG, () -> "NBD TLS: " + rekeyAfter
                + " bytes read under one key; asking the client for new keys with the next reply");
        readKeyBudget = Long.MAX_VALUE; // no second request for this key: the client's KeyUpdate restarts the count
        engine.beginHandshake();
    }

    /** Sends what the engine has to say now (no application data): all of it, one wrap at a time. */
    private void wrapHandshake() throws SSLException {
        wrapLock.lock();
        try {
            SSLEngineResult r;
            do {
                netOut.clear();
                r = engine.wrap(EMPTY, netOut);
                flushNetOut();
                if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                    throw new ConnectionClosed("TLS session closed");
                }
            } while (r.bytesProduced() > 0 && r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP);
        } finally {
            wrapLock.unlock();
        }
    }

    private void flushNetOut() {
        // wrap fills netOut from 0, so its bytes are netOutSeg[0, position).
        int end = netOut.position();
        int done = 0;
        while (done < end) {
            // Copy and write(2) without yielding between them: the stage is the lane's.
            MemorySegment.copy(netOutSeg, done, writeStage, 0, end - done);
            int n = socket.writeSome(writeStage, end - done);
            if (n > 0) {
                done += n;
            } else {
                socket.awaitWritable();
            }
        }
        netOut.clear();
    }

    /**
     * One unwrap into appIn, reading the socket until a whole record is there. Returns
     * after the engine consumed a record (which may have produced no plaintext).
     */
    private SSLEngineResult unwrapOnce() throws SSLException {
        while (true) {
            netIn.flip();
            appIn.compact();
            SSLEngineResult r;
            try {
                r = engine.unwrap(netIn, appIn);
            } finally {
                appIn.flip();
                netIn.compact();
            }
            switch (r.getStatus()) {
                case OK -> {
                    readKeyBudget -= r.bytesConsumed();
                    return r;
                }
                case CLOSED -> throw new ConnectionClosed("TLS session closed by the client");
                case BUFFER_OVERFLOW -> throw new IllegalStateException(
                        "NBD TLS: a record does not fit the session's application buffer");
                case BUFFER_UNDERFLOW -> {
                    if (!netIn.hasRemaining()) {
                        throw new ProtocolError("TLS record larger than " + netIn.capacity() + " bytes");
                    }
                    int n = socket.readSome(netInSeg.asSlice(netIn.position()), netIn.remaining());
                    netIn.position(netIn.position() + n);
                }
            }
        }
    }

    /** The engine holds application data back until a handshake step is done (a task, or the peer's next message). */
    private static boolean waitsForPeer(SSLEngineResult.HandshakeStatus hs) {
        return hs == SSLEngineResult.HandshakeStatus.NEED_TASK || hs == SSLEngineResult.HandshakeStatus.NEED_UNWRAP
                || hs == SSLEngineResult.HandshakeStatus.NEED_UNWRAP_AGAIN;
    }

    /**
     * Ends the session with a close_notify alert (what GnuTLS's {@code gnutls_bye} sends
     * when QEMU or nbdkit end a TLS connection), so the client can tell a finished session
     * from a truncated one. Best effort, outside coroutines, once no writer is left: one
     * non-blocking write, dropped if the socket does not take it.
     */
    void closeNotify() {
        engine.closeOutbound();
        netOut.clear();
        try {
            while (!engine.isOutboundDone()) {
                if (engine.wrap(EMPTY, netOut).bytesProduced() == 0) {
                    break;
                }
            }
        } catch (SSLException e) {
            netOut.clear();
            return; // the session is already broken: nothing to send
        }
        if (netOut.position() > 0) {
            MemorySegment.copy(netOutSeg, 0, writeStage, 0, netOut.position());
            socket.writeNow(writeStage, netOut.position());
        }
        netOut.clear();
    }

    @Override
    public void readFully(MemorySegment seg, long len) {
        long done = 0;
        try {
            while (done < len) {
                int avail = appIn.remaining();
                if (avail > 0) {
                    int n = (int) Math.min(avail, len - done);
                    MemorySegment.copy(appInSeg, appIn.position(), seg, done, n);
                    appIn.position(appIn.position() + n);
                    done += n;
                    continue;
                }
                if (socket.readingStopped()) {
                    throw new ConnectionClosed("stopping");
                }
                SSLEngineResult r = unwrapOnce();
                SSLEngineResult.HandshakeStatus hs = r.getHandshakeStatus();
                if (!tls13 && hs != SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING
                        && hs != SSLEngineResult.HandshakeStatus.FINISHED) {
                    // A ClientHello on an established TLS 1.2 session. qemu-nbd ends the
                    // connection (GnuTLS reports it as an error, qcrypto_tls_session_read in
                    // crypto/tlssession.c); the JDK would renegotiate, and while its tasks run
                    // every wrap of a reply returns without progress.
                    renegotiationRefused = true;
                    throw new TlsFailure("TLS 1.2 renegotiation requested by the client; refused", null, null);
                }
                if (hs == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                    runTasks();
                }
                if (r.bytesProduced() == 0 && tls13) {
                    // Once the session is up a client's only record without data is a KeyUpdate
                    // (an alert ends the session; an empty data record, which TLS 1.3 allows and
                    // no NBD client sends, would only restart the count early, with the JDK's own
                    // limit still behind it): this side now reads under a new key. Counting from
                    // here, not from the request, keeps a request that waits for the next reply
                    // from being followed by another for the same key.
                    readKeyBudget = rekeyAfter;
                    // Its answer (NEED_WRAP) goes with the next reply. The engine keeps a queued
                    // message and a cipher per answer, so a client that asks again first (libnbd
                    // never asks) is answered now: an idle session flooded with requests would
                    // otherwise fill the heap.
                    if (hs == SSLEngineResult.HandshakeStatus.NEED_WRAP && ++answersWaiting > 1) {
                        answersWaiting = 0;
                        wrapHandshake();
                    }
                } else if (readKeyBudget <= 0) {
                    requestKeyUpdate();
                }
            }
        } catch (SSLException e) {
            throw failure(e, false);
        }
    }

    @Override
    public void writeFully(MemorySegment seg, long len) {
        ByteBuffer src = seg.asSlice(0, len).asByteBuffer();
        wrapLock.lock();
        try {
            while (src.hasRemaining()) {
                if (socket.broken() || renegotiationRefused) {
                    throw new ConnectionClosed("abandoned");
                }
                netOut.clear();
                while (src.hasRemaining() && netOut.remaining() >= packetSize) {
                    SSLEngineResult r = engine.wrap(src, netOut);
                    if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                        throw new ConnectionClosed("TLS session closed");
                    }
                    if (r.bytesConsumed() == 0 && r.bytesProduced() == 0 && waitsForPeer(r.getHandshakeStatus())) {
                        // Wrapping again without yielding would spin the IOThread for good.
                        throw new ConnectionClosed("TLS engine takes no data (" + r.getHandshakeStatus() + ")");
                    }
                    if (r.bytesConsumed() == 0) {
                        break;
                    }
                }
                flushNetOut();
            }
            answersWaiting = 0; // the first wrap sent whatever the engine held
        } catch (SSLException e) {
            throw new ConnectionClosed("TLS wrap failed: " + e.getMessage());
        } finally {
            wrapLock.unlock();
        }
    }
}
