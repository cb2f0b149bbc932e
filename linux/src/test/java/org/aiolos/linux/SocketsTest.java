package org.aiolos.linux;

import org.aiolos.linux.faults.Faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.aiolos.api.FdEvents;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SocketsTest {
    @AfterEach
    void clear() {
        Faults.clear();
    }

    @Test
    void echoOverLoopback() throws Exception {
        FdLeaks.check(() -> {
            int l = Sockets.listenTcp("127.0.0.1", 0, 16);
            int c = -1;
            int s = -1;
            try (Arena a = Arena.ofConfined(); PollSet ps = new PollSet()) {
                int port = Sockets.localPort(l);
                assertTrue(port > 0);
                assertEquals(-Errno.EAGAIN, Sockets.accept(l), "nothing pending");
                c = Sockets.connectTcp("localhost", port);
                Sockets.setNoDelay(c);
                ps.set(0, l, FdEvents.IN);
                assertEquals(1, ps.ppoll(1, 5_000_000_000L));
                s = Sockets.accept(l);
                assertTrue(s >= 0);
                Sockets.setNoDelay(s);
                assertEquals("127.0.0.1:" + Sockets.localPort(c), Sockets.peerAddress(s));
                assertEquals("127.0.0.1:" + port, Sockets.peerAddress(c));
                MemorySegment msg = a.allocateFrom("ping");
                assertEquals(5, Fds.write(c, msg, 5));
                MemorySegment buf = a.allocate(64);
                ps.set(0, s, FdEvents.IN);
                assertEquals(1, ps.ppoll(1, 5_000_000_000L));
                int n = Fds.read(s, buf, 64);
                assertEquals(5, n);
                assertEquals(5, Fds.write(s, buf, n), "echo");
                ps.set(0, c, FdEvents.IN);
                assertEquals(1, ps.ppoll(1, 5_000_000_000L));
                MemorySegment back = a.allocate(64);
                assertEquals(5, Fds.read(c, back, 64));
                assertEquals("ping", back.getString(0));
                assertEquals(-Errno.EAGAIN, Fds.read(c, back, 64), "the connected socket is non-blocking");
                Sockets.shutdownWrite(c);
                ps.set(0, s, FdEvents.IN);
                assertEquals(1, ps.ppoll(1, 5_000_000_000L));
                assertEquals(0, Fds.read(s, buf, 64), "EOF after the peer's shutdown(SHUT_WR)");
            } finally {
                if (s >= 0) {
                    Fds.close(s);
                }
                if (c >= 0) {
                    Fds.close(c);
                }
                Fds.close(l);
            }
        });
    }

    @Test
    void errors() throws Exception {
        FdLeaks.check(() -> {
            int l = Sockets.listenTcp("127.0.0.1", 0, 4);
            int port = Sockets.localPort(l);
            SyscallException inUse = assertThrows(SyscallException.class, () -> Sockets.listenTcp("127.0.0.1", port, 4));
            assertEquals("bind", inUse.call());
            assertEquals(Errno.EADDRINUSE, inUse.errno());
            SyscallException probed = assertThrows(SyscallException.class,
                    () -> Sockets.checkTcpBindable("127.0.0.1", port));
            assertEquals("bind", probed.call());
            assertEquals(Errno.EADDRINUSE, probed.errno());
            Fds.close(l);
            Sockets.checkTcpBindable("127.0.0.1", port); // free again; the probe neither listens nor leaks
            SyscallException refused = assertThrows(SyscallException.class, () -> Sockets.connectTcp("127.0.0.1", port));
            assertEquals("connect", refused.call());
            assertEquals("ECONNREFUSED", refused.errnoName());
            int[] p = Fds.pipe();
            try {
                assertEquals(Errno.ENOTSOCK, assertThrows(SyscallException.class, () -> Sockets.setNoDelay(p[0])).errno());
                assertEquals(Errno.ENOTSOCK, assertThrows(SyscallException.class, () -> Sockets.resetOnClose(p[0])).errno());
                assertEquals("accept4", assertThrows(SyscallException.class, () -> Sockets.accept(p[0])).call());
            } finally {
                Fds.close(p[0]);
                Fds.close(p[1]);
            }
            SyscallException bad = assertThrows(SyscallException.class, () -> Sockets.shutdownWrite(p[0]));
            assertEquals("shutdown", bad.call());
            assertEquals(Errno.EBADF, bad.errno());
            assertEquals("getsockname", assertThrows(SyscallException.class, () -> Sockets.localPort(p[0])).call());
            assertEquals("getpeername", assertThrows(SyscallException.class, () -> Sockets.peerAddress(p[0])).call());
            Faults.failNth("socket", 1, Errno.EMFILE);
            assertEquals("socket", assertThrows(SyscallException.class, () -> Sockets.listenTcp("127.0.0.1", 0, 1)).call());
            Faults.failNth("listen", 1, Errno.EADDRINUSE);
            assertEquals("listen", assertThrows(SyscallException.class, () -> Sockets.listenTcp("127.0.0.1", 0, 1)).call());
        });
        assertThrows(IllegalArgumentException.class, () -> Sockets.listenTcp("127.0.0.1", 70000, 1));
        assertThrows(IllegalArgumentException.class, () -> Sockets.listenTcp("127.0.0.1", 0, -1));
        assertThrows(IllegalArgumentException.class, () -> Sockets.connectTcp("127.0.0.1", 0));
        assertThrows(IllegalArgumentException.class, () -> Sockets.connectTcp("", 80));
        assertThrows(IllegalArgumentException.class, () -> Sockets.connectTcp("::1", 80));
    }
}
