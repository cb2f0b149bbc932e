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
import org.aiolos.nbd.TlsSettings;

/**
 * The server behind {@link org.aiolos.nbd.NbdServer}: the listening socket, the exports and
 * the connections, all owned by one context's home thread. Public entry points hop to
 * the home thread and wait there for the answer.
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
    /** The listener's TLS, or null without. */
    private final ServerTls tls;
    private final String address;
    /** The Unix socket listened on, or null for TCP. */
    private final Path unixPath;
    private final int listenFd;
    private final int port;
    /** Sorted by name, so NBD_OPT_LIST answers in a stable order. Written in the home thread, read anywhere. */
    private final ConcurrentSkipListMap<String, Export> exports = new ConcurrentSkipListMap<>();
    /** Home thread only. */
    private final Set<Connection> connections = new LinkedHashSet<>();
    private final BufferPool pool = new BufferPool(POOL_CACHE_BYTES);
    private final CountDownLatch closed = new CountDownLatch(1);
    private boolean closing;
    /** QEMU's handshake-max-seconds default. */
    private volatile long handshakeTimeoutNs = 10_000_000_000L;
    /** Accepting paused after EMFILE/ENFILE; re-armed by a timer. */
    private AioTimer acceptRetry;
    private boolean closeDone;
    private long serial;

    private ServerCore(AiolosContext ctx, String address, Path unixPath, int listenFd, ServerTls tls) {
        this.ctx = ctx;
        this.tls = tls;
        this.address = address;
        this.unixPath = unixPath;
        this.listenFd = listenFd;
        this.port = unixPath == null ? Sockets.localPort(listenFd) : 0;
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
                ctx.setFdHandler(fd, s::acceptAll, null);
                LOG.log(System.Logger.Level.DEBUG, () -> "NBD server listening on unix:" + abs);
                return s;
            } catch (RuntimeException e) {
                Fds.close(fd);
                Files.deleteIfExists(abs);
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
                throw new IOException("NBD server: cannot listen on " + address + ":" + port + ": " + e.getMessage(), e);
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

    public String address() {
        return address;
    }

    public int port() {
        return port;
    }

    ServerTls tls() {
        return tls;
    }

    /** The listener's TLS mode. */
    public TlsSettings tlsSettings() {
        return tls == null ? TlsSettings.DISABLED : tls.settings();
    }

    BufferPool pool() {
        return pool;
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
            Export e = Export.open(spec, ctx, pool);
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
            e.removed = true;
            if (e.connections.isEmpty()) {
                e.close();
            } else {
                for (Connection c : new ArrayList<>(e.connections)) {
                    c.stop();
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
            List<Connection> clients = new ArrayList<>(e.connections);
            for (Connection c : clients) {
                c.stop();
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
        return e == null || e.removed ? null : e;
    }

    List<Export> listExports() {
        return new ArrayList<>(exports.values());
    }

    // ------------------------------------------------------------------ connections

    private void acceptAll() {
        while (true) {
            int fd;
            try {
                fd = Sockets.accept(listenFd);
            } catch (SyscallException e) {
                // Out of descriptors (or worse): the pending connection stays pending, and a
                // level-triggered monitor would report it again at once, so pause for a while.
                LOG.log(System.Logger.Level.WARNING, "NBD server on " + endpoint() + ": " + e.getMessage()
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
            Connection c = new Connection(this, ctx, fd, peer + " (#" + (++serial) + ")");
            connections.add(c);
            c.start(handshakeTimeoutNs);
        }
    }

    /** Home thread: a connection has closed its socket. */
    void connectionFinished(Connection c) {
        connections.remove(c);
        Export e = c.export();
        if (e != null && e.removed && e.connections.isEmpty()) {
            e.close();
        }
        maybeCompleteClose();
    }

    /**
     * The request buffers' memory now, read in the home thread: {live bytes, peak live
     * bytes, cached bytes, cache limit}. Any thread.
     */
    public long[] bufferMemory() {
        return hopUnchecked("bufferMemory", () -> new long[] {pool.liveBytes(), pool.peakLiveBytes(),
                pool.cachedBytes(), pool.maxCachedBytes()});
    }

    /** Connections open now (handshake or transmission); any thread. */
    public int connectionCount() {
        return hopUnchecked("connectionCount", connections::size);
    }

    /** How long a client may take from connecting to entering transmission; 0 = no limit. */
    public void setHandshakeTimeout(java.time.Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("handshake timeout must be >= 0, got " + timeout);
        }
        handshakeTimeoutNs = timeout.toNanos();
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
            ctx.removeFdHandler(listenFd);
            Fds.close(listenFd);
            if (unixPath != null) {
                try {
                    Files.deleteIfExists(unixPath);
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, "NBD server: cannot remove " + unixPath + ": " + e.getMessage());
                }
            }
            for (Connection c : new ArrayList<>(connections)) {
                c.stop();
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
            pool.close();
        } finally {
            closed.countDown();
            LOG.log(System.Logger.Level.DEBUG, () -> "NBD server on " + endpoint() + " closed");
        }
    }
}
