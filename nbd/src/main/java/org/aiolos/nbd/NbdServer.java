package org.aiolos.nbd;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.aiolos.core.AiolosContext;
import org.aiolos.nbd.internal.Export;
import org.aiolos.nbd.internal.ServerCore;

/**
 * An NBD server (QEMU {@code nbd/server.c} behind {@code qemu-nbd} or
 * {@code nbd-server-start}): fixed-newstyle negotiation and transmission over TCP, served
 * by one {@link AiolosContext}. Every socket is watched by the context's fd monitor, every
 * request runs in a coroutine of its own in the context's home thread, and disk I/O goes
 * through the export's disk-I/O engine. See {@code docs/nbd.md} for protocol coverage.
 *
 * <p><b>Limits and bad clients.</b> Reads and writes carry at most 32 MiB (advertised as
 * the NBD_INFO_BLOCK_SIZE maximum); a longer READ is answered with {@code NBD_EINVAL}. A
 * longer WRITE is answered with {@code NBD_EINVAL} and the connection is then closed,
 * because its payload cannot be skipped without reading it (QEMU does the same). Writes
 * and zero writes past the end get {@code NBD_ENOSPC}; reads and trims past the end
 * {@code NBD_EINVAL}; requests that modify a read-only export {@code NBD_EPERM}; a
 * zero-length request succeeds without touching the file. Option payloads above 64 KiB,
 * bad magic numbers and unknown client flags close the connection (one log line). At
 * most 16 requests per connection are in flight; beyond that the server stops reading
 * that socket until one completes.
 *
 * <p><b>Several IOThreads.</b> {@link #start(List, String, int)} (or {@link #addContext})
 * spreads the connections over several contexts: the first listens, and each accepted
 * connection is served, for its whole life, by the context with the fewest open
 * connections. A client that opens several connections to one export (NBD multi-conn,
 * which every export advertises) is then served by several threads at once; a flush on
 * any connection covers the writes completed on all of them, since every context's engine
 * flushes the one descriptor the export shares.
 *
 * <p><b>Threads.</b> Every method may be called from any thread; those that change state
 * run in the context's home thread, whose loop must therefore be running (an IOThread, or
 * a caller that polls). {@link #close()} called from the home thread polls the context
 * itself until the connections have drained.
 */
public final class NbdServer implements AutoCloseable {
    private final ServerCore core;

    private NbdServer(ServerCore core) {
        this.core = core;
    }

    /**
     * Binds and listens on {@code address:port} (port 0 = an ephemeral port, see
     * {@link #port()}) and serves on {@code ctx}.
     *
     * @throws IOException when the socket cannot be bound or listened on; the message
     *     names the address, the port and the errno
     * @throws IllegalArgumentException for an empty address, a port outside [0, 65535] or
     *     an unknown host
     */
    public static NbdServer start(AiolosContext ctx, String address, int port) throws IOException {
        return new NbdServer(ServerCore.start(ctx, address, port));
    }

    /**
     * Fails as {@link #start(AiolosContext, String, int)} would if {@code address:port}
     * cannot be bound now (another socket listens there, the address is not this host's),
     * without listening, so that no client can connect: for refusing a configuration
     * before it is stored. It may still fail later, when the port is taken meanwhile.
     *
     * @throws IOException naming the address and the error (EADDRINUSE, EADDRNOTAVAIL)
     * @throws IllegalArgumentException for a port outside 0..65535 or an address that is no IPv4 address
     * @since 0.7.0
     */
    public static void checkListenable(String address, int port) throws IOException {
        ServerCore.checkListenable(address, port);
    }

    /**
     * Like {@link #start(AiolosContext, String, int)}, with the connections spread over
     * {@code contexts}: the first listens (and serves), every one serves connections.
     *
     * @throws IllegalArgumentException for an empty list, a null or a repeated context
     * @since 0.3.0
     */
    public static NbdServer start(List<? extends AiolosContext> contexts, String address, int port)
            throws IOException {
        if (contexts == null || contexts.isEmpty()) {
            throw new IllegalArgumentException("contexts must name at least one context");
        }
        for (int i = 0; i < contexts.size(); i++) {
            if (contexts.get(i) == null) {
                throw new IllegalArgumentException("contexts[" + i + "] is null");
            }
            for (int j = 0; j < i; j++) {
                if (contexts.get(j) == contexts.get(i)) {
                    throw new IllegalArgumentException("context '" + contexts.get(i).name() + "' is named twice");
                }
            }
        }
        ServerCore core = ServerCore.start(contexts.get(0), address, port);
        for (int i = 1; i < contexts.size(); i++) {
            core.addContext(contexts.get(i));
        }
        return new NbdServer(core);
    }

    /**
     * Serves connections accepted from now on on {@code ctx} too (its loop must run).
     *
     * @return false if it serves already
     * @throws IllegalStateException after {@link #close()}
     * @since 0.3.0
     */
    public boolean addContext(AiolosContext ctx) {
        return core.addContext(ctx);
    }

    /**
     * Stops serving on {@code ctx} (before its IOThread goes): no connection is placed there
     * any more, and those on it stop reading requests, let the ones in flight finish and
     * reply, and close (clients that reconnect land on the other contexts). Called from
     * another thread than the listening context's, it returns once they have closed.
     *
     * @return how many connections were stopped, or -1 if {@code ctx} did not serve
     * @throws IllegalArgumentException for the listening context
     * @since 0.3.0
     */
    public int removeContext(AiolosContext ctx) {
        return core.removeContext(ctx);
    }

    /**
     * The contexts serving connections, the listening one first, each with its open and
     * accepted connections.
     *
     * @since 0.3.0
     */
    public List<ServingContext> servingContexts() {
        return core.servingContexts();
    }

    /**
     * Like {@link #start(AiolosContext, String, int)}, offering TLS ({@code NBD_OPT_STARTTLS})
     * as {@code tls} says. The credentials are read before the socket is bound, on the
     * calling thread, and one in-memory handshake with them loads the JDK's TLS code there
     * (a few hundred milliseconds on a quiet machine), so the first client does not pay for it.
     *
     * @throws IOException also when a credentials file cannot be read or parsed (the
     *     message names the file)
     * @since 0.3.0
     */
    public static NbdServer start(AiolosContext ctx, String address, int port, TlsSettings tls) throws IOException {
        return new NbdServer(ServerCore.start(ctx, address, port, tls));
    }

    /**
     * Listens on a Unix domain socket at {@code socket} (clients: {@code
     * nbd+unix:///EXPORT?socket=PATH}, or {@code nbds+unix://} with TLS) and serves on
     * {@code ctx}. The socket file gets {@code mode} (e.g. {@code 0600}: only this user may
     * connect) before the server listens; a socket file left by an earlier run is replaced,
     * any other file refused; {@link #close()} removes it.
     *
     * @throws IOException when the socket cannot be bound or listened on, or a credentials
     *     file cannot be read
     * @throws IllegalArgumentException for a path over 107 bytes, a mode outside 0..0777,
     *     or a file at the path that is not a socket
     * @since 0.3.0
     */
    public static NbdServer startUnix(AiolosContext ctx, Path socket, int mode, TlsSettings tls) throws IOException {
        return new NbdServer(ServerCore.startUnix(ctx, socket, mode, tls));
    }

    /**
     * The Unix socket listened on (absolute), or null for TCP.
     *
     * @since 0.3.0
     */
    public Path socketPath() {
        return core.unixPath();
    }

    /**
     * The listener's TLS settings ({@link TlsSettings#DISABLED} without TLS).
     *
     * @since 0.3.0
     */
    public TlsSettings tls() {
        return core.tlsSettings();
    }

    /**
     * Opens {@code spec}'s file and serves it under its name; clients connected before see
     * it in later negotiations.
     *
     * @throws IllegalArgumentException if an export of that name exists
     * @throws IOException if the file cannot be opened (the message names file and errno)
     *     or the engine is unavailable
     * @throws IllegalStateException after {@link #close()}
     */
    public void addExport(ExportSpec spec) throws IOException {
        core.addExport(spec);
    }

    /**
     * Withdraws an export: new clients no longer see it; connected clients' requests in
     * flight finish and reply, then their connections close, and then its file (and its own
     * engine) is closed.
     *
     * @return false if there was no such export
     */
    public boolean removeExport(String name) {
        return core.removeExport(name);
    }

    /**
     * Disconnects the clients of one export (QEMU's {@code nbd-server-remove mode=hard},
     * without removing the export): each connection stops reading requests, those in
     * flight finish and reply, then the connection closes. New clients are served as
     * before.
     *
     * @return how many connections were told to go
     * @throws IllegalArgumentException if there is no export of that name
     * @since 0.2.0
     */
    public int disconnectClients(String name) {
        return core.disconnectClients(name);
    }

    /** The address given to {@link #start}; {@code unix:PATH} for a Unix socket. */
    public String address() {
        return core.address();
    }

    /** The bound port (the ephemeral one when 0 was given); 0 for a Unix socket. */
    public int port() {
        return core.port();
    }

    /** A snapshot of each export's counters, by name. */
    public List<ExportStats> exports() {
        List<ExportStats> out = new ArrayList<>();
        String ctxEngine = null;
        for (Export e : core.exports()) {
            if (ctxEngine == null) {
                ctxEngine = core.contextEngineName();
            }
            out.add(new ExportStats(e.name(), e.spec.file(), e.size, e.spec.readOnly(), e.engineName(ctxEngine),
                    e.connectionCount(), e.requests(), e.bytesRead(), e.bytesWritten(), e.errors()));
        }
        return out;
    }

    /**
     * How long a client may take from connecting to entering transmission (QEMU's
     * {@code handshake-max-seconds}, 10 s by default); a client still negotiating then is
     * disconnected. {@link Duration#ZERO} means no limit. Applies to later connections.
     *
     * @throws IllegalArgumentException for a negative duration
     */
    public void setHandshakeTimeout(Duration timeout) {
        core.setHandshakeTimeout(timeout);
    }

    /**
     * How many connections may be open at once (QEMU's {@code qemu-nbd --shared=N}); one
     * more is closed as soon as it is accepted, before the greeting, with a warning at most
     * every 10 s. Every connection costs about 200 KiB of buffers from its accept, so a
     * listener that strangers can reach wants a bound. 0 (the default) means no limit.
     * Applies to later connections.
     *
     * @throws IllegalArgumentException for a negative number
     * @since 0.6.0
     */
    public void setMaxConnections(int max) {
        core.setMaxConnections(max);
    }

    /**
     * The native memory of the request payload buffers now (the buffer pool's own
     * counters): what requests in flight hold, the most they have held, and what idle
     * buffers kept for reuse hold (at most 32 MiB per server). Payload in flight is bounded
     * at 64 MiB per connection and 256 MiB per export (docs/nbd.md, "Memory").
     */
    public BufferMemory bufferMemory() {
        long[] m = core.bufferMemory();
        return new BufferMemory(m[0], m[1], m[2], m[3]);
    }

    /**
     * The request buffers' memory: bytes by size class.
     *
     * @param liveBytes held by requests in flight
     * @param peakLiveBytes the most {@code liveBytes} has been since the server started
     * @param cachedBytes held by idle buffers kept for reuse
     * @param maxCachedBytes the limit of {@code cachedBytes}
     */
    public record BufferMemory(long liveBytes, long peakLiveBytes, long cachedBytes, long maxCachedBytes) {
    }

    /**
     * Test seam: the stall period of the export budget (docs/nbd.md, "Back-pressure"), 10 s
     * unless set; applies to the next look.
     */
    void setStallPeriod(Duration period) {
        core.setStallPeriod(period);
    }

    /** Test seam: payload bytes export {@code name} holds in flight over all its connections. */
    long payloadInFlight(String name) {
        return core.payloadInFlight(name);
    }

    /** Test seam: receivers of export {@code name} waiting for room in its payload budget. */
    int payloadWaiters(String name) {
        return core.payloadWaiters(name);
    }

    /** Client connections open now, in negotiation or transmission. */
    public int connectionCount() {
        return core.connectionCount();
    }

    /**
     * Stops listening, lets requests in flight finish and reply (abandoning, after 2 s,
     * replies a client does not read), closes every socket, and closes the files and the
     * engines the exports opened. Idempotent; any thread.
     */
    @Override
    public void close() {
        core.close();
    }
}
