package org.aiolos.linux;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * IPv4 TCP sockets for the NBD server and the echo demo: listen, accept, connect and a
 * few options. Every socket is close-on-exec; listening and accepted sockets are
 * non-blocking; close them with {@link Fds#close}.
 */
public final class Sockets {
    // bits/socket.h, bits/socket_type.h, asm-generic/socket.h, netinet/in.h, netinet/tcp.h
    private static final int AF_INET = 2;
    private static final int SOCK_STREAM = 1;
    private static final int SOL_SOCKET = 1;
    private static final int SO_REUSEADDR = 2;
    private static final int SO_LINGER = 13;
    private static final int IPPROTO_TCP = 6;
    private static final int TCP_NODELAY = 1;
    private static final int SHUT_WR = 1;
    private static final int POLLOUT = 0x004;
    /** struct sockaddr_in: sin_family u16, sin_port (network order) u16, sin_addr u32, 8 zero bytes. */
    private static final int SOCKADDR_IN_SIZE = 16;

    private Sockets() {
    }

    private static byte[] ipv4(String host) {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("host must not be empty");
        }
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) {
                if (a instanceof Inet4Address) {
                    return a.getAddress();
                }
            }
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("unknown host " + host, e);
        }
        throw new IllegalArgumentException("host " + host + " has no IPv4 address");
    }

    private static void checkPort(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        }
    }

    private static MemorySegment sockaddr(Arena a, byte[] ip, int port) {
        MemorySegment s = a.allocate(SOCKADDR_IN_SIZE, 4);
        s.set(JAVA_SHORT, 0, (short) AF_INET);
        s.set(JAVA_BYTE, 2, (byte) (port >>> 8));
        s.set(JAVA_BYTE, 3, (byte) port);
        for (int i = 0; i < 4; i++) {
            s.set(JAVA_BYTE, 4 + i, ip[i]);
        }
        return s;
    }

    private static int socket(int typeFlags) {
        int fd = Native.socket(AF_INET, SOCK_STREAM | typeFlags | Fds.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new SyscallException("socket", "AF_INET, SOCK_STREAM", -fd);
        }
        return fd;
    }

    /**
     * A non-blocking listening socket on {@code host:port} with SO_REUSEADDR; port 0 picks
     * an ephemeral port (see {@link #localPort}).
     */
    public static int listenTcp(String host, int port, int backlog) {
        if (backlog < 0) {
            throw new IllegalArgumentException("backlog must be >= 0, got " + backlog);
        }
        int fd = bindTcp(host, port);
        try {
            listen(fd, backlog);
            return fd;
        } catch (RuntimeException e) {
            Fds.close(fd);
            throw e;
        }
    }

    /** {@code listen(2)} on a bound socket, TCP or Unix. */
    static void listen(int fd, int backlog) {
        int r = Native.listen(fd, backlog);
        if (r < 0) {
            throw new SyscallException("listen", "fd " + fd + ", backlog " + backlog, -r);
        }
    }

    /**
     * Whether {@link #listenTcp} could bind {@code host:port} now: binds a socket as it does
     * and closes it at once, without listening, so no client can connect to it. A port that
     * another socket listens on fails with EADDRINUSE as listenTcp would (SO_REUSEADDR only
     * lets a bind pass sockets left in TIME_WAIT). What holds now may change before the
     * real bind: this is for refusing a request early, not instead of the bind's own error.
     *
     * @throws SyscallException as the bind of {@link #listenTcp} would
     */
    public static void checkTcpBindable(String host, int port) {
        Fds.close(bindTcp(host, port));
    }

    /** A non-blocking TCP socket bound to {@code host:port} with SO_REUSEADDR. */
    private static int bindTcp(String host, int port) {
        checkPort(port);
        byte[] ip = ipv4(host);
        int fd = socket(Fds.SOCK_NONBLOCK);
        boolean ok = false;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocate(JAVA_INT);
            one.set(JAVA_INT, 0, 1);
            int r = Native.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4);
            if (r < 0) {
                throw new SyscallException("setsockopt", "fd " + fd + ", SO_REUSEADDR", -r);
            }
            r = Native.bind(fd, sockaddr(a, ip, port), SOCKADDR_IN_SIZE);
            if (r < 0) {
                throw new SyscallException("bind", "fd " + fd + ", " + host + ":" + port, -r);
            }
            ok = true;
            return fd;
        } finally {
            if (!ok) {
                Fds.close(fd);
            }
        }
    }

    /** The local port a socket is bound to ({@code getsockname}). */
    public static int localPort(int fd) {
        try (Arena a = Arena.ofConfined()) {
            return port(socketName(a, fd, false));
        }
    }

    /** {@code getsockname} or {@code getpeername} into a sockaddr_in from {@code a}. */
    private static MemorySegment socketName(Arena a, int fd, boolean peer) {
        MemorySegment addr = a.allocate(SOCKADDR_IN_SIZE, 4);
        MemorySegment len = a.allocate(JAVA_INT);
        len.set(JAVA_INT, 0, SOCKADDR_IN_SIZE);
        int r = peer ? Native.getpeername(fd, addr, len) : Native.getsockname(fd, addr, len);
        if (r < 0) {
            throw new SyscallException(peer ? "getpeername" : "getsockname", "fd " + fd, -r);
        }
        return addr;
    }

    private static int port(MemorySegment sockaddrIn) {
        return (Byte.toUnsignedInt(sockaddrIn.get(JAVA_BYTE, 2)) << 8) | Byte.toUnsignedInt(sockaddrIn.get(JAVA_BYTE, 3));
    }

    /**
     * The peer of a connected IPv4 socket as {@code a.b.c.d:port} ({@code getpeername}), for
     * log lines; once per connection, not per request.
     */
    public static String peerAddress(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment addr = socketName(a, fd, true);
            if (addr.get(JAVA_SHORT, 0) != AF_INET) {
                throw new IllegalArgumentException("fd " + fd + " is not an IPv4 socket");
            }
            return Byte.toUnsignedInt(addr.get(JAVA_BYTE, 4)) + "." + Byte.toUnsignedInt(addr.get(JAVA_BYTE, 5)) + "."
                    + Byte.toUnsignedInt(addr.get(JAVA_BYTE, 6)) + "." + Byte.toUnsignedInt(addr.get(JAVA_BYTE, 7))
                    + ":" + port(addr);
        }
    }

    /**
     * Accepts a pending connection as a non-blocking close-on-exec socket
     * ({@code accept4}).
     *
     * @return the new fd, or -EAGAIN (none pending), -EINTR, or -ECONNABORTED (the peer gave
     *         up before it was accepted); all three mean "try again later"
     */
    public static int accept(int listenFd) {
        int r = Native.accept4(listenFd, Fds.SOCK_NONBLOCK | Fds.SOCK_CLOEXEC);
        if (r >= 0 || r == -Errno.EAGAIN || r == -Errno.EINTR || r == -Errno.ECONNABORTED) {
            return r;
        }
        throw new SyscallException("accept4", "listen fd " + listenFd, -r);
    }

    /**
     * Connects to {@code host:port} (blocking until connected or refused), then makes the
     * socket non-blocking. An interrupted connect is waited for with ppoll and confirmed
     * with a second connect (EISCONN = done).
     */
    public static int connectTcp(String host, int port) {
        checkPort(port);
        if (port == 0) {
            throw new IllegalArgumentException("cannot connect to port 0");
        }
        byte[] ip = ipv4(host);
        int fd = socket(0);
        boolean ok = false;
        try (Arena a = Arena.ofConfined(); PollSet ps = new PollSet()) {
            MemorySegment addr = sockaddr(a, ip, port);
            int r = Native.connect(fd, addr, SOCKADDR_IN_SIZE);
            while (r == -Errno.EINTR || r == -Errno.EALREADY || r == -Errno.EINPROGRESS) {
                ps.set(0, fd, POLLOUT);
                ps.ppoll(1, -1);
                r = Native.connect(fd, addr, SOCKADDR_IN_SIZE);
                if (r == -Errno.EISCONN) {
                    r = 0;
                }
            }
            if (r < 0) {
                throw new SyscallException("connect", "fd " + fd + ", " + host + ":" + port, -r);
            }
            Fds.setNonBlocking(fd, true);
            ok = true;
            return fd;
        } finally {
            if (!ok) {
                Fds.close(fd);
            }
        }
    }

    /** Disables Nagle's algorithm ({@code TCP_NODELAY}). */
    public static void setNoDelay(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocate(JAVA_INT);
            one.set(JAVA_INT, 0, 1);
            int r = Native.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, one, 4);
            if (r < 0) {
                throw new SyscallException("setsockopt", "fd " + fd + ", TCP_NODELAY", -r);
            }
        }
    }

    /**
     * Makes the next {@link Fds#close} abortive ({@code SO_LINGER} on with a zero timeout):
     * the peer gets a reset and data still queued for it is dropped at once, instead of the
     * kernel holding it for a peer that may never read it.
     */
    public static void resetOnClose(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment linger = a.allocate(JAVA_INT, 2); // struct linger { int l_onoff; int l_linger; }
            linger.setAtIndex(JAVA_INT, 0, 1);
            linger.setAtIndex(JAVA_INT, 1, 0);
            int r = Native.setsockopt(fd, SOL_SOCKET, SO_LINGER, linger, 8);
            if (r < 0) {
                throw new SyscallException("setsockopt", "fd " + fd + ", SO_LINGER", -r);
            }
        }
    }

    /** Half-closes the sending side ({@code shutdown(SHUT_WR)}): the peer reads EOF. */
    public static void shutdownWrite(int fd) {
        int r = Native.shutdown(fd, SHUT_WR);
        if (r < 0) {
            throw new SyscallException("shutdown", "fd " + fd + ", SHUT_WR", -r);
        }
    }
}
