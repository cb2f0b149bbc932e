package org.aiolos.nbd.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.core.AiolosContext;
import org.aiolos.linux.Errno;
import org.aiolos.linux.Fds;
import org.aiolos.linux.Sockets;
import org.aiolos.linux.SyscallException;
import org.aiolos.linux.UnixSockets;
import org.aiolos.nbd.ExportSpec;
import org.aiolos.nbd.ServingContext;
import org.aiolos.nbd.TlsSettings;

/**
 * The server behind {@link org.aiolos.nbd.NbdServer}: the listening socket, the exports and
 * the connections, all owned by one context's home thread. Public entry points hop to
 * the home thread and wait there for the answer.
 *
 * <p><b>Serving contexts.</b> The home context listens and always serves; further contexts
 * ({@link #addContext}) serve connections too, so one export's clients are spread over
 * several IOThreads (QEMU's multiqueue idea, over NBD multi-conn). Each accepted connection
 * is placed, for its whole life, on the lane with the fewest open connections (ties in
 * turn): a connection's load is unknown when it arrives and connections come and go, so a
 * plain rotation can leave two live clients on one thread after churn, while counting
 * cannot. The connection's socket, coroutines, engine and buffers are then its lane's;
 * this class keeps the bookkeeping in the home thread, and a connection reports its end
 * there ({@link #connectionClosed}).
 */
public final class ServerCore {
    private static final System.Logger LOG = System.getLogger("org.aiolos.nbd");
    /** How long a call from another thread waits for the home thread to act. */
    private static final long HOP_TIMEOUT_S = 30;
    private static final int BACKLOG = 128;
    private static final long ACCEPT_PAUSE_MS = 100;
    /** Native memory kept for reuse by idle request buffers. */
    static final long POOL_CACHE_BYTES = 32L << 20;

    private final AiolosContext ctx;
    /** The home context's lane. */
    private final Lane homeLane;
    /** Every serving lane, the home one first; replaced whole in the home thread, read anywhere. */
    private volatile Lane[] lanes;
    /** Where the next tie in the placement starts; home thread only. */
    private int placementCursor;
    /** The listener's TLS, or null without. */
    private final ServerTls tls;
    private final String address;
    /** The Unix socket listened on, or null for TCP. */
    private final Path unixPath;
    /** The socket file's device and inode, so close removes only the file it made. */
    private Object unixIdentity;
    private final int listenFd;
    private final int port;
    /** Sorted by name, so NBD_OPT_LIST answers in a stable order. Written in the home thread, read anywhere. */
    private final ConcurrentSkipListMap<String, Export> exports = new ConcurrentSkipListMap<>();
    /** Home thread only. */
    private final Set<Connection> connections = new LinkedHashSet<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    private boolean closing;
    /** QEMU's handshake-max-seconds default. */
    private volatile long handshakeTimeoutNs = 10_000_000_000L;
    /** {@link StallWatch#STALL_PERIOD_NS}; shorter in tests. */
    private volatile long stallPeriodNs = StallWatch.STALL_PERIOD_NS;
    /** Connections open at once before the next is refused at accept; 0: no limit (max-connections). */
    private volatile int maxConnections;
    private final ThrottledLog refusals;
    /** Accepting paused after EMFILE/ENFILE; re-armed by a timer. */
    private AioTimer acceptRetry;
    /**
     * The pauses: one line per 10 s, the rest counted (out of descriptors, every pause ends
     * in another); home thread. Its summary comes when the window ends ({@link #acceptPausesEnd}).
     */
    private ThrottledLog acceptPauses;
    private AioTimer acceptPausesEnd;
    private boolean closeDone;
    private long serial;

    private ServerCore(AiolosContext ctx, String address, Path unixPath, int listenFd, ServerTls tls) {
        this.ctx = ctx;
        this.homeLane = new Lane(ctx, POOL_CACHE_BYTES);
        this.lanes = new Lane[] {homeLane};
        this.tls = tls;
        this.address = address;
        this.unixPath = unixPath;
        this.listenFd = listenFd;
        this.port = unixPath == null ? Sockets.localPort(listenFd) : 0;
        this.refusals = new ThrottledLog(LOG, System.Logger.Level.WARNING, "NBD server on " + endpoint(),
                "connection closed at once", "connections closed at once", System::nanoTime, null);
    }

    /** Binds a Unix domain socket at {@code path} with file mode {@code mode} and starts accepting on {@code ctx}. */
    public static ServerCore startUnix(AiolosContext ctx, Path path, int mode, TlsSettings tlsSettings)
            throws IOException {
        Objects.requireNonNull(ctx, "ctx");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(tlsSettings, "tlsSettings");
        ServerTls tls = ServerTls.open(tlsSettings);
        Path abs = path.toAbsolutePath();
        return hop(ctx, "start", () -> {
            int fd;
            try {
                fd = UnixSockets.listen(abs, mode, BACKLOG);
            } catch (SyscallException e) {
                throw new IOException("NBD server: cannot listen on unix:" + abs + ": " + e.getMessage(), e);
            }
            try {
                ServerCore s = new ServerCore(ctx, "unix:" + abs, abs, fd, tls);
                s.unixIdentity = UnixSockets.identity(abs);
                ctx.setFdHandler(fd, s::acceptAll, null);
                LOG.log(System.Logger.Level.DEBUG, () -> "NBD server listening on unix:" + abs);
                return s;
            } catch (IOException | RuntimeException e) {
                Fds.close(fd);
                Files.deleteIfExists(abs); // bound a moment ago: nobody else's yet
                throw e;
            }
        });
    }

    /** The Unix socket listened on, or null for TCP. */
    public Path unixPath() {
        return unixPath;
    }

    /** Where clients connect, for messages: {@code address:port} or {@code unix:PATH}. */
    private String endpoint() {
        return unixPath != null ? address : address + ":" + port;
    }

    /** Binds, listens and starts accepting on {@code ctx}. */
    public static ServerCore start(AiolosContext ctx, String address, int port) throws IOException {
        return start(ctx, address, port, TlsSettings.DISABLED);
    }

    /** Binds, listens and starts accepting on {@code ctx}, offering TLS as {@code tlsSettings} say. */
    public static ServerCore start(AiolosContext ctx, String address, int port, TlsSettings tlsSettings)
            throws IOException {
        Objects.requireNonNull(ctx, "ctx");
        Objects.requireNonNull(tlsSettings, "tlsSettings");
        ServerTls tls = ServerTls.open(tlsSettings); // reads the files now: bad ones refuse the start
        if (address == null || address.isEmpty()) {
            throw new IllegalArgumentException("address must not be empty");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        }
        return hop(ctx, "start", () -> {
            int fd;
            try {
                fd = Sockets.listenTcp(address, port, BACKLOG);
            } catch (SyscallException e) {
                throw cannotListen(address, port, e);
            }
            try {
                ServerCore s = new ServerCore(ctx, address, null, fd, tls);
                ctx.setFdHandler(fd, s::acceptAll, null);
                LOG.log(System.Logger.Level.DEBUG, () -> "NBD server listening on " + address + ":" + s.port);
                return s;
            } catch (RuntimeException e) {
                Fds.close(fd);
                throw e;
            }
        });
    }

    /**
     * Fails as {@link #start} would if {@code address:port} cannot be bound now (another
     * socket listens there, the address is not this host's), without listening; for
     * refusing a configuration before it is stored. Port 0 always binds.
     */
    public static void checkListenable(String address, int port) throws IOException {
        try {
            Sockets.checkTcpBindable(address, port);
        } catch (SyscallException e) {
            throw cannotListen(address, port, e);
        }
    }

    private static IOException cannotListen(String address, int port, SyscallException e) {
        return new IOException("NBD server: cannot listen on " + address + ":" + port + ": " + e.getMessage(), e);
    }

    public String address() {
        return address;
    }

    public int port() {
        return port;
    }

    // ------------------------------------------------------------------ serving contexts

    /**
     * Adds a context that serves connections accepted from now on.
     *
     * @return false if it serves already
     * @throws IllegalStateException after {@link #close()}
     */
    public boolean addContext(AiolosContext serving) {
        Objects.requireNonNull(serving, "serving");
        return hopUnchecked("addContext", () -> {
            if (closing) {
                throw new IllegalStateException("NBD server on " + address + ":" + port + " is closed");
            }
            for (Lane l : lanes) {
                if (l.ctx == serving) {
                    return false;
                }
            }
            Lane[] next = java.util.Arrays.copyOf(lanes, lanes.length + 1);
            next[lanes.length] = new Lane(serving, POOL_CACHE_BYTES / 2);
            lanes = next;
            LOG.log(System.Logger.Level.DEBUG, () -> "NBD server on " + address + ":" + port + ": context '"
                    + serving.name() + "' serves connections");
            return true;
        });
    }

    /**
     * Withdraws a serving context: no connection is placed there any more, and the ones on
     * it are stopped (their requests in flight finish and reply, then they close; clients
     * reconnect and land on the other lanes). From another thread, waits until they have
     * closed (at most the hop timeout plus the stop's grace period).
     *
     * @return the connections that were stopped, or -1 if the context did not serve
     * @throws IllegalArgumentException for the home context, which listens
     */
    public int removeContext(AiolosContext serving) {
        Objects.requireNonNull(serving, "serving");
        Object[] out = hopUnchecked("removeContext", () -> {
            if (serving == ctx) {
                throw new IllegalArgumentException("context '" + ctx.name() + "' listens for this server on "
                        + address + ":" + port + "; it cannot stop serving while the server runs");
            }
            Lane lane = null;
            List<Lane> keep = new ArrayList<>();
            for (Lane l : lanes) {
                if (l.ctx == serving) {
                    lane = l;
                } else {
                    keep.add(l);
                }
            }
            if (lane == null) {
                return new Object[] {-1, null};
            }
            lanes = keep.toArray(new Lane[0]);
            lane.drained = new CompletableFuture<>();
            int stopped = 0;
            for (Connection c : connections) {
                if (c.lane() == lane) {
                    stopOnLane(c);
                    stopped++;
                }
            }
            if (lane.connections == 0) {
                retire(lane);
            }
            return new Object[] {stopped, lane.drained};
        });
        @SuppressWarnings("unchecked")
        CompletableFuture<Void> drained = (CompletableFuture<Void>) out[1];
        if (drained != null && !ctx.inHomeThread()) {
            long waitS = HOP_TIMEOUT_S + Connection.GRACE_MS / 1000;
            try {
                drained.get(waitS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new IllegalStateException("NBD server on " + address + ":" + port + ": the connections on context '"
                        + serving.name() + "' did not close within " + waitS + " s");
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("NBD server: interrupted while withdrawing context '"
                        + serving.name() + "'");
            }
        }
        return (Integer) out[0];
    }

    /** The serving contexts, the home one first; any thread. */
    public List<ServingContext> servingContexts() {
        return hopUnchecked("servingContexts", () -> {
            List<ServingContext> out = new ArrayList<>();
            for (Lane l : lanes) {
                out.add(new ServingContext(l.name(), l.connections, l.placed));
            }
            return out;
        });
    }

    /** Home thread: the lane with the fewest open connections; ties go round in turn. */
    private Lane place() {
        Lane[] ls = lanes;
        int start = Math.floorMod(placementCursor++, ls.length);
        Lane best = null;
        for (int i = 0; i < ls.length; i++) {
            Lane l = ls[(start + i) % ls.length];
            if (best == null || l.connections < best.connections) {
                best = l;
            }
        }
        return best;
    }

    /** Home thread: a withdrawn lane has no connection left; its buffers and engines go. */
    private void retire(Lane lane) {
        for (Export e : exports.values()) {
            e.closeEngineOf(lane.ctx);
        }
        lane.pool.close();
        lane.drained.complete(null);
    }

    /** Home thread: tells {@code c} to stop, in its lane's thread. */
    private void stopOnLane(Connection c) {
        AiolosContext owner = c.lane().ctx;
        if (owner.inHomeThread()) {
            c.stop();
            return;
        }
        try {
            owner.scheduleOneshot("nbd-connection-stop", c::stop);
        } catch (IllegalStateException closedCtx) {
            // Its context is closed under it: nothing runs the connection any more.
            LOG.log(System.Logger.Level.WARNING, "NBD client " + c.peer + ": its context '" + owner.name()
                    + "' is closed; the connection is lost");
        }
    }

    ServerTls tls() {
        return tls;
    }

    /** The listener's TLS mode. */
    public TlsSettings tlsSettings() {
        return tls == null ? TlsSettings.DISABLED : tls.settings();
    }

    // ------------------------------------------------------------------ home-thread hops

    private static <T> T hop(AiolosContext ctx, String what, Callable<T> work) throws IOException {
        if (ctx.inHomeThread()) {
            try {
                return work.call();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        CompletableFuture<T> f = new CompletableFuture<>();
        ctx.scheduleOneshot("nbd-" + what, () -> {
            try {
                f.complete(work.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        try {
            return f.get(HOP_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw new IOException(io.getMessage(), io);
            }
            if (c instanceof IllegalArgumentException iae) {
                throw new IllegalArgumentException(iae.getMessage(), iae);
            }
            if (c instanceof IllegalStateException ise) {
                throw new IllegalStateException(ise.getMessage(), ise);
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("NBD server: " + what + " failed: " + c, c);
        } catch (TimeoutException e) {
            throw new IllegalStateException("NBD server: context '" + ctx.name() + "' did not run " + what
                    + " within " + HOP_TIMEOUT_S + " s; is its loop running?");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("NBD server: interrupted while waiting for " + what);
        }
    }

    private <T> T hopUnchecked(String what, Callable<T> work) {
        try {
            return hop(ctx, what, work);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ exports

    public void addExport(ExportSpec spec) throws IOException {
        Objects.requireNonNull(spec, "spec");
        hop(ctx, "addExport", () -> {
            if (closing) {
                throw new IllegalStateException("NBD server on " + endpoint() + " is closed");
            }
            if (exports.containsKey(spec.name())) {
                throw new IllegalArgumentException("an export named '" + spec.name() + "' already exists");
            }
            if (!spec.allowedClients().isEmpty() && (tls == null || !tls.settings().verifyPeer())) {
                throw new IllegalArgumentException("export '" + spec.name() + "' allows only some client certificates, "
                        + "but " + endpoint() + " does not verify client certificates (needs tls=on or require with "
                        + "verify-peer)");
            }
            Export e = Export.open(spec, ctx);
            exports.put(spec.name(), e);
            LOG.log(System.Logger.Level.DEBUG, () -> "NBD export '" + spec.name() + "' of " + spec.file() + " ("
                    + e.size + " bytes" + (spec.readOnly() ? ", read-only" : "") + (spec.direct() ? ", O_DIRECT" : "")
                    + ") on " + endpoint());
            return null;
        });
    }

    public boolean removeExport(String name) {
        Objects.requireNonNull(name, "name");
        return hopUnchecked("removeExport", () -> {
            Export e = exports.remove(name);
            if (e == null) {
                return false;
            }
            List<Connection> attached = e.markRemoved();
            if (attached.isEmpty()) {
                e.close();
            } else {
                for (Connection c : attached) {
                    stopOnLane(c);
                }
            }
            return true;
        });
    }

    /**
     * Tells every connection in transmission on export {@code name} to stop: its requests
     * in flight finish and reply, then it closes. The export keeps serving new clients.
     *
     * @return the connections told to stop
     * @throws IllegalArgumentException if there is no such export
     */
    public int disconnectClients(String name) {
        Objects.requireNonNull(name, "name");
        return hopUnchecked("disconnectClients", () -> {
            Export e = exports.get(name);
            if (e == null) {
                throw new IllegalArgumentException("no export named '" + name + "'; exports: "
                        + String.join(", ", exports.keySet()));
            }
            List<Connection> clients = e.attached();
            for (Connection c : clients) {
                stopOnLane(c);
            }
            return clients.size();
        });
    }

    /** Live exports; any thread. */
    public List<Export> exports() {
        return List.copyOf(exports.values());
    }

    /** The context's current engine name, for exports without their own. */
    public String contextEngineName() {
        return ctx.diskIo().name(); // before the first request: the engine it will open
    }

    /** Home thread: the export a client asks for, or null. */
    Export findExport(String name) {
        Export e = exports.get(name);
        return e == null || e.removed() ? null : e;
    }

    List<Export> listExports() {
        return new ArrayList<>(exports.values());
    }

    // ------------------------------------------------------------------ connections

    private ThrottledLog acceptPauses() {
        if (acceptPauses == null) {
            acceptPausesEnd = ctx.newTimer(ClockType.REALTIME, TimeScale.NS, () -> acceptPauses.flush());
            acceptPauses = new ThrottledLog(LOG, System.Logger.Level.WARNING, "NBD server on " + endpoint(),
                    "accept pause", "accept pauses", System::nanoTime,
                    leftNs -> acceptPausesEnd.modNs(ctx.clocks().nowNs(ClockType.REALTIME) + leftNs));
        }
        return acceptPauses;
    }

    private void acceptAll() {
        while (true) {
            int fd;
            try {
                fd = Sockets.accept(listenFd);
            } catch (SyscallException e) {
                // Out of descriptors (or worse): the pending connection stays pending, and a
                // level-triggered monitor would report it again at once, so pause for a while.
                acceptPauses().log(() -> "NBD server on " + endpoint() + ": " + e.getMessage()
                        + "; not accepting for " + ACCEPT_PAUSE_MS + " ms");
                ctx.removeFdHandler(listenFd);
                if (acceptRetry == null) {
                    acceptRetry = ctx.newTimer(ClockType.REALTIME, TimeScale.MS, () -> {
                        if (!closing) {
                            ctx.setFdHandler(listenFd, this::acceptAll, null);
                        }
                    });
                }
                acceptRetry.mod(ctx.clocks().now(ClockType.REALTIME, TimeScale.MS) + ACCEPT_PAUSE_MS);
                return;
            }
            if (fd == -Errno.EINTR || fd == -Errno.ECONNABORTED) {
                continue;
            }
            if (fd < 0) {
                return;
            }
            if (closing) {
                Fds.close(fd);
                continue;
            }
            int max = maxConnections;
            if (max > 0 && connections.size() >= max) {
                Fds.close(fd); // the client sees the connection end before the greeting
                refusals.log(() -> "NBD server on " + endpoint() + ": " + max
                        + " connections open (max-connections); a new one was closed at once");
                continue;
            }
            String peer;
            if (unixPath != null) {
                peer = "unix"; // Unix peers are anonymous; the serial tells them apart
            } else {
                try {
                    Sockets.setNoDelay(fd);
                } catch (SyscallException e) {
                    LOG.log(System.Logger.Level.DEBUG, () -> "NBD: " + e.getMessage());
                }
                try {
                    peer = Sockets.peerAddress(fd);
                } catch (RuntimeException e) {
                    peer = "?"; // already reset by the peer; the connection will notice
                }
            }
            Lane lane = place();
            Connection c = new Connection(this, lane, fd, peer + " (#" + (++serial) + ")");
            connections.add(c);
            lane.connections++;
            lane.placed++;
            long timeoutNs = handshakeTimeoutNs;
            if (lane == homeLane) {
                c.start(timeoutNs);
            } else {
                try {
                    lane.ctx.scheduleOneshot("nbd-connection-start", () -> c.start(timeoutNs));
                } catch (IllegalStateException closedCtx) {
                    // The lane's context closed before the server heard: serve it here.
                    connections.remove(c);
                    lane.connections--;
                    c.discard();
                    LOG.log(System.Logger.Level.WARNING, "NBD server on " + address + ":" + port + ": context '"
                            + lane.name() + "' is closed; withdraw it with removeContext; dropped " + c.peer);
                }
            }
        }
    }

    /** A connection has closed its socket; its lane's thread. The bookkeeping is the home thread's. */
    void connectionClosed(Connection c) {
        // From a bottom half even in the home thread: this may run inside a disk completion,
        // where an export's engine cannot be closed.
        ctx.scheduleOneshot("nbd-connection-finished", () -> connectionFinished(c));
    }

    /** Home thread: a connection has closed its socket. */
    private void connectionFinished(Connection c) {
        connections.remove(c);
        Lane lane = c.lane();
        lane.connections--;
        if (lane.drained != null && lane.connections == 0) {
            retire(lane);
        }
        Export e = c.export();
        if (e != null && e.removed() && e.idle()) {
            e.close();
        }
        maybeCompleteClose();
    }

    /**
     * The request buffers' memory now, summed over every IOThread's pool: {live bytes, peak
     * live bytes (the sum of each pool's peak), cached bytes, cache limit}. Any thread; the
     * figures of pools other than the home thread's are a monitoring snapshot, read without
     * stopping their IOThreads.
     */
    public long[] bufferMemory() {
        return hopUnchecked("bufferMemory", () -> {
            long[] sum = new long[4];
            for (Lane l : lanes) {
                sum[0] += l.pool.liveBytes();
                sum[1] += l.pool.peakLiveBytes();
                sum[2] += l.pool.cachedBytes();
                sum[3] += l.pool.maxCachedBytes();
            }
            return sum;
        });
    }

    /** Connections open now (handshake or transmission); any thread. */
    public int connectionCount() {
        return hopUnchecked("connectionCount", connections::size);
    }

    /** Connections open at once before a new one is closed at accept; 0 = no limit. */
    public void setMaxConnections(int max) {
        if (max < 0) {
            throw new IllegalArgumentException("max-connections must be >= 0 (0: no limit), got " + max);
        }
        maxConnections = max;
    }

    /** How long a client may take from connecting to entering transmission; 0 = no limit. */
    public void setHandshakeTimeout(java.time.Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("handshake timeout must be >= 0, got " + timeout);
        }
        handshakeTimeoutNs = timeout.toNanos();
    }

    /**
     * How long a connection holding export payload budget may move no byte on its socket
     * while another connection waits for that budget ({@link StallWatch}); for tests, which
     * cannot wait the 10 s default.
     */
    public void setStallPeriod(java.time.Duration period) {
        if (period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("stall period must be > 0, got " + period);
        }
        stallPeriodNs = period.toNanos();
    }

    long stallPeriodNs() {
        return stallPeriodNs;
    }

    /** Payload bytes in flight on export {@code name} over all its connections; any thread. */
    public long payloadInFlight(String name) {
        return budgetOf(name).inFlight();
    }

    /** Receivers of export {@code name} waiting for room in its payload budget; any thread. */
    public int payloadWaiters(String name) {
        return budgetOf(name).waiting();
    }

    private PayloadBudget<Transmission> budgetOf(String name) {
        Export e = exports.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no export named '" + name + "'");
        }
        return e.budget;
    }

    // ------------------------------------------------------------------ close

    public void close() {
        Runnable begin = () -> {
            if (closing) {
                return;
            }
            closing = true;
            if (acceptRetry != null) {
                acceptRetry.cancel();
            }
            if (acceptPauses != null) {
                acceptPausesEnd.cancel();
                acceptPauses.flush();
            }
            ctx.removeFdHandler(listenFd);
            Fds.close(listenFd);
            if (unixPath != null) {
                try {
                    // Only our own file: a server started since may have replaced a file it found
                    // without a listener (ours, if this one hung), and keeps it.
                    UnixSockets.removeIfSame(unixPath, unixIdentity);
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, "NBD server: cannot remove " + unixPath + ": " + e.getMessage());
                }
            }
            for (Connection c : new ArrayList<>(connections)) {
                stopOnLane(c);
            }
            maybeCompleteClose();
        };
        if (ctx.inHomeThread()) {
            begin.run();
            while (closed.getCount() > 0) {
                ctx.poll(true);
            }
            return;
        }
        if (closed.getCount() == 0) {
            return;
        }
        ctx.scheduleOneshot("nbd-close", begin);
        try {
            long waitS = HOP_TIMEOUT_S + Connection.GRACE_MS / 1000;
            if (!closed.await(waitS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("NBD server on " + endpoint() + ": context '" + ctx.name()
                        + "' did not finish closing within " + waitS + " s; is its loop running?");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("NBD server: interrupted while closing");
        }
    }

    private void maybeCompleteClose() {
        if (!closing || closeDone || !connections.isEmpty()) {
            return;
        }
        closeDone = true;
        try {
            for (Export e : exports.values()) {
                try {
                    e.close();
                } catch (RuntimeException ex) {
                    LOG.log(System.Logger.Level.ERROR, "NBD export '" + e.name() + "': close failed", ex);
                }
            }
            exports.clear();
            for (Lane l : lanes) {
                l.pool.close();
            }
        } finally {
            closed.countDown();
            LOG.log(System.Logger.Level.DEBUG, () -> "NBD server on " + endpoint() + " closed");
        }
    }
}
