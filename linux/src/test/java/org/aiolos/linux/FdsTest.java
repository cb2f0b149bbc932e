package org.aiolos.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class FdsTest {
    @Test
    void pipeRoundTripAndEagain() throws Exception {
        FdLeaks.check(() -> {
            int[] p = Fds.pipe();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocateFrom("hello");
                MemorySegment in = a.allocate(64);
                assertEquals(-Errno.EAGAIN, Fds.read(p[0], in, 64), "empty non-blocking pipe");
                assertEquals(6, Fds.write(p[1], out, 6));
                assertEquals(6, Fds.read(p[0], in, 64));
                assertEquals("hello", in.getString(0));
                Fds.close(p[1]);
                assertEquals(0, Fds.read(p[0], in, 64), "EOF after the write end closed");
            } finally {
                Fds.close(p[0]);
            }
        });
    }

    @Test
    void closedFdErrorsNameTheCallAndEbadf() throws Exception {
        FdLeaks.check(() -> {
            int[] p = Fds.pipe();
            Fds.close(p[0]);
            Fds.close(p[1]);
            assertFalse(Fds.isOpen(p[0]));
            SyscallException e = assertThrows(SyscallException.class, () -> Fds.close(p[0]));
            assertEquals("close", e.call());
            assertEquals(Errno.EBADF, e.errno());
            assertEquals("close(fd " + p[0] + "): EBADF (Bad file descriptor)", e.getMessage());
            try (Arena a = Arena.ofConfined()) {
                MemorySegment b = a.allocate(8);
                SyscallException r = assertThrows(SyscallException.class, () -> Fds.read(p[0], b, 8));
                assertEquals("read", r.call());
                assertEquals("EBADF", r.errnoName());
                SyscallException w = assertThrows(SyscallException.class, () -> Fds.write(p[1], b, 8));
                assertEquals("write", w.call());
                assertEquals("EBADF", w.errnoName());
            }
            assertEquals("fcntl", assertThrows(SyscallException.class, () -> Fds.setNonBlocking(p[0], true)).call());
            assertEquals("dup", assertThrows(SyscallException.class, () -> Fds.dup(p[0])).call());
        });
    }

    @Test
    void badArguments() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment b = a.allocate(8);
            assertThrows(IllegalArgumentException.class, () -> Fds.read(0, b, -1));
            assertThrows(IllegalArgumentException.class, () -> Fds.write(1, b, 9));
            assertThrows(IllegalArgumentException.class,
                    () -> Fds.write(1, MemorySegment.ofArray(new byte[8]), 8), "heap segments are refused");
            assertThrows(NullPointerException.class, () -> Fds.read(0, null, 1));
            IllegalArgumentException ro = assertThrows(IllegalArgumentException.class,
                    () -> Fds.read(0, b.asReadOnly(), 8), "the kernel would write a read-only view");
            assertEquals("buffer is read-only and cannot receive the data read", ro.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Files.pread(0, b.asReadOnly(), 8, 0));
        }
        Arena closed = Arena.ofShared();
        MemorySegment freed = closed.allocate(1 << 20);
        closed.close();
        // FFM refuses a closed segment handed to a system call before the call is made.
        assertThrows(IllegalStateException.class, () -> Fds.read(0, freed, 8));
        assertThrows(IllegalStateException.class, () -> Files.pread(0, freed, 1 << 20, 0));
        assertFalse(Fds.isOpen(-1));
    }

    @Test
    void nonBlockingFlagAndDup() throws Exception {
        FdLeaks.check(() -> {
            int[] p = Fds.pipe();
            int d = Fds.dup(p[1]);
            try (Arena a = Arena.ofConfined()) {
                assertTrue(Fds.isOpen(d));
                assertNotEquals(p[1], d);
                MemorySegment b = a.allocate(ValueLayout.JAVA_LONG);
                assertEquals(8, Fds.write(d, b, 8), "the duplicate writes into the same pipe");
                assertEquals(8, Fds.read(p[0], b, 8));
                Fds.setNonBlocking(p[0], false);
                Fds.setNonBlocking(p[0], true);
                assertEquals(-Errno.EAGAIN, Fds.read(p[0], b, 8), "non-blocking again");
            } finally {
                Fds.close(d);
                Fds.close(p[0]);
                Fds.close(p[1]);
            }
        });
    }

    @Test
    void socketPairIsBidirectional() throws Exception {
        FdLeaks.check(() -> {
            int[] s = Fds.socketPair();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment b = a.allocate(4);
                b.set(ValueLayout.JAVA_INT, 0, 42);
                assertEquals(4, Fds.write(s[0], b, 4));
                MemorySegment c = a.allocate(4);
                assertEquals(4, Fds.read(s[1], c, 4));
                assertEquals(42, c.get(ValueLayout.JAVA_INT, 0));
                assertEquals(4, Fds.write(s[1], b, 4));
                assertEquals(4, Fds.read(s[0], c, 4));
                assertEquals(-Errno.EAGAIN, Fds.read(s[0], c, 4));
            } finally {
                Fds.close(s[0]);
                Fds.close(s[1]);
            }
        });
    }

    @Test
    void openFdCountSeesNewDescriptors() {
        int before = Fds.openFdCount();
        int[] p = Fds.pipe();
        assertEquals(before + 2, Fds.openFdCount());
        Fds.close(p[0]);
        Fds.close(p[1]);
        assertEquals(before, Fds.openFdCount());
    }
}
