package org.aiolos.demo;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.aiolos.api.AioContext;
import org.aiolos.linux.Errno;
import org.aiolos.linux.Fds;
import org.aiolos.linux.Sockets;
import org.aiolos.linux.SyscallException;

/**
 * A TCP echo server on 127.0.0.1 whose every socket is an fd handler of one
 * {@link AioContext}: the listening socket accepts, each connection reads and writes back
 * what it read. A connection whose peer does not read stops reading until its pending
 * bytes are written (level-triggered, so nothing is lost in between). All callbacks run
 * in the context's home thread; {@link #close} tears down there too.
 */
public final class EchoServer implements AutoCloseable {
    private static final int BUFFER = 64 * 1024;

    private final AioContext ctx;
    private final int listenFd;
    private final int port;
    private final Arena arena = Arena.ofShared();
    /** Home thread only. */
    private final Map<Integer, Connection> connections = new HashMap<>();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong echoedBytes = new AtomicLong();

    /** Listens on 127.0.0.1:{@code port} (0 = an ephemeral port) and serves on {@code ctx}. */
    public EchoServer(AioContext ctx, int port) {
        this.ctx = ctx;
        this.listenFd = Sockets.listenTcp("127.0.0.1", port, 64);
        this.port = Sockets.localPort(listenFd);
        ctx.setFdHandler(listenFd, this::acceptAll, null);
    }

    public int port() {
        return port;
    }

    public long accepted() {
        return accepted.get();
    }

    public long echoedBytes() {
        return echoedBytes.get();
    }

    private void acceptAll() {
        while (true) {
            int fd = Sockets.accept(listenFd);
            if (fd == -Errno.ECONNABORTED || fd == -Errno.EINTR) {
                continue;
            }
            if (fd < 0) {
                return; // EAGAIN: none left
            }
            accepted.incrementAndGet();
            Connection c = new Connection(fd, arena.allocate(BUFFER));
            connections.put(fd, c);
            ctx.setFdHandler(fd, c::onReadable, null);
        }
    }

    private final class Connection {
        final int fd;
        final MemorySegment buf;
        int pendingOff;
        int pendingLen;

        Connection(int fd, MemorySegment buf) {
            this.fd = fd;
            this.buf = buf;
        }

        void onReadable() {
            int n;
            try {
                n = Fds.read(fd, buf, BUFFER);
            } catch (SyscallException e) {
                drop(); // ECONNRESET and the like: the peer is gone, so is the connection
                return;
            }
            if (n == 0) {
                drop();
            } else if (n > 0) {
                pendingOff = 0;
                pendingLen = n;
                flush();
            }
        }

        void onWritable() {
            flush();
        }

        /** Writes what is pending; waits for writability (not reading meanwhile) if the peer is slow. */
        private void flush() {
            while (pendingLen > 0) {
                int w;
                try {
                    w = Fds.write(fd, buf.asSlice(pendingOff), pendingLen);
                } catch (SyscallException e) {
                    drop(); // EPIPE, ECONNRESET: the peer is gone
                    return;
                }
                if (w == -Errno.EINTR) {
                    continue;
                }
                if (w < 0) {
                    ctx.setFdHandler(fd, null, this::onWritable);
                    return;
                }
                echoedBytes.addAndGet(w);
                pendingOff += w;
                pendingLen -= w;
            }
            ctx.setFdHandler(fd, this::onReadable, null);
        }

        void drop() {
            ctx.removeFdHandler(fd);
            connections.remove(fd);
            Fds.close(fd);
        }
    }

    /**
     * Removes every handler and closes every socket in the home thread (so no callback can
     * touch a closed fd), waiting up to a second for the loop to get there. If the context
     * has closed already, no callback can run any more: the sockets are closed here, so the
     * port is free for whoever binds it next.
     */
    @Override
    public void close() {
        CountDownLatch done = new CountDownLatch(1);
        Runnable teardown = () -> {
            for (Connection c : connections.values().toArray(Connection[]::new)) {
                c.drop();
            }
            ctx.removeFdHandler(listenFd);
            Fds.close(listenFd);
            done.countDown();
        };
        if (ctx.inHomeThread()) {
            teardown.run();
        } else {
            try {
                ctx.scheduleOneshot("echo-close", teardown);
            } catch (IllegalStateException contextClosed) {
                for (Connection c : connections.values()) {
                    Fds.close(c.fd);
                }
                connections.clear();
                Fds.close(listenFd);
                done.countDown();
            }
        }
        boolean tornDown;
        try {
            tornDown = done.await(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            tornDown = false;
        }
        if (!tornDown) {
            // The buffers stay mapped: a handler that still runs must not touch freed memory.
            throw new IllegalStateException("echo server on port " + port
                    + ": the context's loop did not run the teardown within 1 s");
        }
        arena.close();
    }
}
