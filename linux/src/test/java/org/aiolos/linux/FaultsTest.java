package org.aiolos.linux;

import org.aiolos.linux.faults.Faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FaultsTest {
    @AfterEach
    void clear() {
        Faults.clear();
    }

    @Test
    void failNthCountsCallsAndFiresOnce() throws Exception {
        FdLeaks.check(() -> {
            int[] p = Fds.pipe();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buf = a.allocate(16);
                Faults.failNth("write", 2, Errno.EIO);
                assertEquals(16, Fds.write(p[1], buf, 16), "1st write performs normally");
                SyscallException e = assertThrows(SyscallException.class, () -> Fds.write(p[1], buf, 16));
                assertEquals("write", e.call());
                assertEquals(Errno.EIO, e.errno());
                assertEquals(16, Fds.write(p[1], buf, 16), "the rule is used up");
                assertEquals(32, Fds.read(p[0], a.allocate(64), 64), "the failed write did not happen");
            } finally {
                Fds.close(p[0]);
                Fds.close(p[1]);
            }
        });
    }

    @Test
    void expectedErrnosAreReturnedNotThrown() throws Exception {
        FdLeaks.check(() -> {
            int[] p = Fds.pipe();
            try (Arena a = Arena.ofConfined()) {
                Faults.failNth("read", 1, Errno.EINTR);
                Faults.failNth("write", 1, Errno.EAGAIN);
                assertEquals(-Errno.EINTR, Fds.read(p[0], a.allocate(8), 8));
                assertEquals(-Errno.EAGAIN, Fds.write(p[1], a.allocate(8), 8));
            } finally {
                Fds.close(p[0]);
                Fds.close(p[1]);
            }
        });
    }

    @Test
    void failAlwaysUntilClear() throws Exception {
        FdLeaks.check(() -> {
            Faults.failAlways("pipe2", Errno.EMFILE);
            for (int i = 0; i < 3; i++) {
                SyscallException e = assertThrows(SyscallException.class, Fds::pipe);
                assertEquals("pipe2", e.call());
                assertEquals("EMFILE", e.errnoName());
            }
            Faults.clear();
            int[] p = Fds.pipe();
            Fds.close(p[0]);
            Fds.close(p[1]);
        });
    }

    @Test
    void shortNthCapsTheByteCount() throws Exception {
        FdLeaks.check(() -> {
            int[] p = Fds.pipe();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buf = a.allocate(100);
                Faults.shortNth("write", 1, 30);
                assertEquals(30, Fds.write(p[1], buf, 100));
                assertEquals(100, Fds.write(p[1], buf, 100));
                Faults.shortNth("read", 1, 7);
                assertEquals(7, Fds.read(p[0], buf, 100));
                assertEquals(100, Fds.read(p[0], buf, 100));
            } finally {
                Fds.close(p[0]);
                Fds.close(p[1]);
            }
        });
    }

    @Test
    void otherCallsAreNotCounted() throws Exception {
        Faults.failNth("epoll_ctl", 1, Errno.ENOMEM);
        FdLeaks.check(() -> {
            int[] p = Fds.pipe();
            Fds.close(p[0]);
            Fds.close(p[1]);
        });
        assertTrue(Faults.armed(), "the epoll_ctl rule is still armed");
        Faults.clear();
        assertFalse(Faults.armed());
    }

    @Test
    void badArguments() {
        assertThrows(IllegalArgumentException.class, () -> Faults.failNth("write", 0, Errno.EIO));
        assertThrows(IllegalArgumentException.class, () -> Faults.failNth("write", 1, 0));
        assertThrows(IllegalArgumentException.class, () -> Faults.failAlways("", Errno.EIO));
        assertThrows(IllegalArgumentException.class, () -> Faults.shortNth("write", 1, -1));
    }

    @Test
    void threadSafeCounting() throws Exception {
        // 4 threads race through 1000 rule checks; exactly one of them gets the 500th.
        Faults.failNth("fake_call", 500, Errno.EIO);
        AtomicInteger fired = new AtomicInteger();
        Thread[] ts = new Thread[4];
        for (int t = 0; t < ts.length; t++) {
            ts[t] = new Thread(() -> {
                for (int i = 0; i < 250; i++) {
                    if (Faults.armed() && Faults.check("fake_call", 0) < 0) {
                        fired.incrementAndGet();
                    }
                }
            });
            ts[t].start();
        }
        for (Thread t : ts) {
            t.join();
        }
        assertEquals(1, fired.get());
        assertFalse(Faults.armed(), "a used-up rule disarms the seam");
    }
}
