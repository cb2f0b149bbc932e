package org.aiolos.linux;

import org.aiolos.linux.faults.Faults;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.aiolos.api.FdEvents;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IoUringTest {
    @TempDir
    Path dir;

    @AfterEach
    void clear() {
        Faults.clear();
    }

    /** Reaps every ready CQE into userData -> res. */
    private static Map<Long, Integer> reap(IoUring ring) {
        Map<Long, Integer> out = new HashMap<>();
        int n = ring.cqReady();
        for (int i = 0; i < n; i++) {
            out.put(ring.cqeUserData(i), ring.cqeRes(i));
        }
        ring.cqAdvance(n);
        return out;
    }

    @Test
    void nopRoundTrip() throws Exception {
        FdLeaks.check(() -> {
            try (IoUring ring = IoUring.open(8, 0)) {
                assertEquals(8, ring.sqEntries());
                assertEquals(16, ring.cqEntries());
                assertEquals(8, ring.sqSpaceLeft());
                long sqe = ring.nextSqe();
                assertTrue(sqe >= 0);
                ring.prepNop(sqe, 0xdead_beef_0000_0042L);
                assertEquals(7, ring.sqSpaceLeft());
                assertEquals(0, ring.cqReady());
                assertEquals(1, ring.submitAndWait(1));
                assertEquals(1, ring.cqReady());
                assertEquals(0xdead_beef_0000_0042L, ring.cqeUserData(0));
                assertEquals(0, ring.cqeRes(0));
                assertEquals(0, ring.cqeFlags(0));
                ring.cqAdvance(1);
                assertEquals(0, ring.cqReady());
                assertEquals(8, ring.sqSpaceLeft());
                assertEquals(0, ring.submit(), "nothing pending: no syscall, 0");
            }
        });
    }

    @Test
    void pollAddFiresAfterWriteNotBefore() throws Exception {
        FdLeaks.check(() -> {
            try (IoUring ring = IoUring.open(8, 0); EventFd n = EventFd.open(false)) {
                ring.prepPollAdd(ring.nextSqe(), n.fd(), FdEvents.IN, 7);
                assertEquals(1, ring.submit());
                Thread.sleep(5);
                assertEquals(0, ring.cqReady(), "no completion before the eventfd is written");
                n.set();
                assertEquals(0, ring.submitAndWait(1));
                assertEquals(1, ring.cqReady());
                assertEquals(7, ring.cqeUserData(0));
                assertTrue((ring.cqeRes(0) & FdEvents.IN) != 0, "res carries POLLIN: " + ring.cqeRes(0));
                ring.cqAdvance(1);
                assertTrue(n.testAndClear());
            }
        });
    }

    @Test
    void pollRemoveCancelsThePoll() throws Exception {
        FdLeaks.check(() -> {
            try (IoUring ring = IoUring.open(8, 0); EventFd n = EventFd.open(false)) {
                ring.prepPollAdd(ring.nextSqe(), n.fd(), FdEvents.IN, 7);
                ring.submit();
                ring.prepPollRemove(ring.nextSqe(), 7, 8);
                ring.submitAndWait(2);
                while (ring.cqReady() < 2) {
                    ring.submitAndWait(1);
                }
                Map<Long, Integer> got = reap(ring);
                assertEquals(-Errno.ECANCELED, got.get(7L));
                assertEquals(0, got.get(8L));
                ring.prepPollRemove(ring.nextSqe(), 7, 9);
                ring.submitAndWait(1);
                assertEquals(-Errno.ENOENT, reap(ring).get(9L), "nothing left to remove");
            }
        });
    }

    @Test
    void timeoutHasNanosecondPrecision() throws Exception {
        FdLeaks.check(() -> {
            try (IoUring ring = IoUring.open(8, 0); Arena a = Arena.ofConfined()) {
                long t0 = System.nanoTime();
                ring.prepTimeoutNs(ring.nextSqe(), 2_000_000, 0, 9);
                assertEquals(1, ring.submitAndWait(1));
                long dt = System.nanoTime() - t0;
                assertEquals(Map.of(9L, -Errno.ETIME), reap(ring));
                assertTrue(dt >= 2_000_000, "2 ms timeout completed after " + dt + " ns");
                assertTrue(dt < 1_000_000_000L, "took " + dt + " ns");
                // Caller-owned timespec; count 1 completes early on another CQE.
                MemorySegment ts = a.allocate(16, 8);
                ts.set(JAVA_LONG, 0, 10);
                ts.set(JAVA_LONG, 8, 0);
                ring.prepTimeout(ring.nextSqe(), ts, 1, 0, 10);
                ring.prepNop(ring.nextSqe(), 11);
                t0 = System.nanoTime();
                ring.submitAndWait(2);
                while (ring.cqReady() < 2) {
                    ring.submitAndWait(1);
                }
                assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "did not wait for the 10 s timeout");
                assertEquals(Map.of(10L, 0, 11L, 0), reap(ring), "count reached: timeout res 0");
            }
        });
    }

    @Test
    void writevFsyncReadvReadWrite() throws Exception {
        FdLeaks.check(() -> {
            int fd = Files.open(dir.resolve("f").toString(), Files.O_RDWR | Files.O_CREAT | Files.O_TRUNC, 0600);
            try (IoUring ring = IoUring.open(8, 0); Arena a = Arena.ofConfined();
                 IoVecArray out = new IoVecArray(2); IoVecArray in = new IoVecArray(2)) {
                MemorySegment b1 = a.allocate(3000);
                MemorySegment b2 = a.allocate(5000);
                for (int i = 0; i < 3000; i++) {
                    b1.set(ValueLayout.JAVA_BYTE, i, (byte) i);
                }
                for (int i = 0; i < 5000; i++) {
                    b2.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7));
                }
                out.set(0, b1).set(1, b2);
                ring.prepWritev(ring.nextSqe(), fd, out.address(), out.count(), 100, 0, 1);
                ring.setSqeFlags(0, IoUring.IOSQE_IO_LINK);
                ring.prepFsync(ring.nextSqe(), fd, IoUring.IORING_FSYNC_DATASYNC, 2);
                assertEquals(2, ring.submitAndWait(2));
                while (ring.cqReady() < 2) {
                    ring.submitAndWait(1);
                }
                assertEquals(Map.of(1L, 8000, 2L, 0), reap(ring));
                assertEquals(8100, Files.size(fd));
                MemorySegment r1 = a.allocate(3000);
                MemorySegment r2 = a.allocate(5000);
                in.set(0, r1).set(1, r2);
                ring.prepReadv(ring.nextSqe(), fd, in.address(), 2, 100, 0, 3);
                ring.submitAndWait(1);
                assertEquals(Map.of(3L, 8000), reap(ring));
                assertArrayEquals(b1.toArray(ValueLayout.JAVA_BYTE), r1.toArray(ValueLayout.JAVA_BYTE));
                assertArrayEquals(b2.toArray(ValueLayout.JAVA_BYTE), r2.toArray(ValueLayout.JAVA_BYTE));
                ring.prepWrite(ring.nextSqe(), fd, b1.address(), 10, 0, 4);
                ring.submitAndWait(1);
                assertEquals(Map.of(4L, 10), reap(ring));
                MemorySegment r3 = a.allocate(20);
                ring.prepRead(ring.nextSqe(), fd, r3.address(), 20, 0, 5);
                ring.submitAndWait(1);
                assertEquals(Map.of(5L, 20), reap(ring));
                assertEquals(9, r3.get(ValueLayout.JAVA_BYTE, 9));
                assertEquals(0, r3.get(ValueLayout.JAVA_BYTE, 10), "the gap before offset 100 reads as zeros");
                ring.prepRead(ring.nextSqe(), fd, r3.address(), 20, 1 << 20, 6);
                ring.submitAndWait(1);
                assertEquals(Map.of(6L, 0), reap(ring), "read past EOF: 0");
                ring.prepRead(ring.nextSqe(), 9999, r3.address(), 20, 0, 7);
                ring.submitAndWait(1);
                assertEquals(Map.of(7L, -Errno.EBADF), reap(ring), "a bad fd is a raw -EBADF result, not an exception");
            } finally {
                Fds.close(fd);
            }
        });
    }

    @Test
    void sqFull() throws Exception {
        FdLeaks.check(() -> {
            try (IoUring ring = IoUring.open(4, 0)) {
                for (int i = 0; i < 4; i++) {
                    long sqe = ring.nextSqe();
                    assertTrue(sqe >= 0);
                    ring.prepNop(sqe, i);
                }
                assertEquals(0, ring.sqSpaceLeft());
                assertEquals(4, ring.sqPending());
                assertEquals(-1, ring.nextSqe(), "full SQ");
                assertEquals(4, ring.submit());
                assertEquals(4, ring.sqSpaceLeft());
                for (int i = 0; i < 4; i++) {
                    ring.prepNop(ring.nextSqe(), 10 + i);
                }
                assertEquals(4, ring.submitAndWait(8));
                assertEquals(8, reap(ring).size());
            }
        });
    }

    @Test
    void overflowIsKeptAndFlushed() throws Exception {
        FdLeaks.check(() -> {
            try (IoUring ring = IoUring.open(2, 0)) {
                assertEquals(2, ring.sqEntries());
                assertEquals(4, ring.cqEntries());
                assertTrue((ring.features() & IoUring.IORING_FEAT_NODROP) != 0, "kernel keeps overflowed CQEs");
                long ud = 0;
                for (int round = 0; round < 3; round++) {
                    ring.prepNop(ring.nextSqe(), ud++);
                    ring.prepNop(ring.nextSqe(), ud++);
                    int r = ring.submit();
                    assertTrue(r == 2 || r == -Errno.EBUSY, "submit: " + r);
                }
                assertEquals(4, ring.cqReady(), "the CQ holds 4");
                assertTrue(ring.cqOverflowFlagged(), "2 more wait in the kernel's overflow list");
                Set<Long> seen = new HashSet<>(reap(ring).keySet());
                int f = ring.flushOverflow();
                assertTrue(f >= 0, "flush: " + f);
                // If a submit was refused with EBUSY, its SQEs are still pending: submit them now.
                if (ring.sqPending() > 0) {
                    ring.submit();
                }
                seen.addAll(reap(ring).keySet());
                assertFalse(ring.cqOverflowFlagged());
                assertEquals(Set.of(0L, 1L, 2L, 3L, 4L, 5L), seen, "all 6 completions came back");
                assertEquals(0, ring.cqOverflowCount(), "none dropped");
            }
        });
    }

    @Test
    void openFailuresAreSyscallExceptions() throws Exception {
        FdLeaks.check(() -> {
            Faults.failNth("io_uring_setup", 1, Errno.ENOMEM);
            SyscallException e = assertThrows(SyscallException.class, () -> IoUring.open(8, 0));
            assertEquals("io_uring_setup", e.call());
            assertEquals(Errno.ENOMEM, e.errno());
            assertTrue(e.getMessage().startsWith("io_uring_setup(8 entries"), e.getMessage());
            Faults.failNth("io_uring_setup", 1, Errno.EPERM);
            assertEquals("EPERM", assertThrows(SyscallException.class, () -> IoUring.open(8, 0)).errnoName());
            // A failing mmap after setup leaks neither the ring fd nor the first mapping.
            Faults.failNth("mmap", 2, Errno.ENOMEM);
            SyscallException m = assertThrows(SyscallException.class, () -> IoUring.open(8, 0));
            assertEquals("mmap", m.call());
        });
        assertThrows(IllegalArgumentException.class, () -> IoUring.open(0, 0));
        assertThrows(IllegalArgumentException.class, () -> IoUring.open(1 << 16, 0));
        assertThrows(IllegalArgumentException.class, () -> IoUring.open(8, IoUring.IORING_SETUP_SQPOLL));
    }

    @Test
    void enterOutcomes() throws Exception {
        FdLeaks.check(() -> {
            try (IoUring ring = IoUring.open(8, 0)) {
                ring.prepNop(ring.nextSqe(), 1);
                Faults.failNth("io_uring_enter", 1, Errno.EINTR);
                assertEquals(-Errno.EINTR, ring.submitAndWait(1));
                assertEquals(1, ring.sqPending(), "interrupted: the SQE is still pending");
                Faults.failNth("io_uring_enter", 1, Errno.EINVAL);
                SyscallException e = assertThrows(SyscallException.class, ring::submit);
                assertEquals("io_uring_enter", e.call());
                assertEquals(Errno.EINVAL, e.errno());
                assertEquals(1, ring.submitAndWait(1));
                assertEquals(Map.of(1L, 0), reap(ring));
                assertThrows(IllegalArgumentException.class, () -> ring.prepNop(8, 0));
                assertThrows(IllegalArgumentException.class, () -> ring.prepRead(0, 0, 0, -1, 0, 0));
                assertThrows(IllegalArgumentException.class, () -> ring.cqAdvance(1));
                assertThrows(IllegalArgumentException.class, () -> ring.submitAndWait(-1));
            }
        });
    }

    @Test
    void registeredEventFdIsSignalled() throws Exception {
        FdLeaks.check(() -> {
            try (IoUring ring = IoUring.open(8, 0); EventFd n = EventFd.open(false)) {
                ring.registerEventFd(n.fd());
                ring.prepNop(ring.nextSqe(), 1);
                ring.submitAndWait(1);
                reap(ring);
                assertTrue(n.testAndClear(), "the completion signalled the eventfd");
                ring.unregisterEventFd();
                SyscallException e = assertThrows(SyscallException.class, ring::unregisterEventFd);
                assertEquals("io_uring_register", e.call());
                assertEquals(Errno.ENXIO, e.errno());
            }
        });
    }

    @Test
    void closeIsIdempotentAndFreesEverything() throws Exception {
        FdLeaks.check(() -> {
            IoUring ring = IoUring.open(64, 0);
            int fd = ring.fd();
            assertTrue(Fds.isOpen(fd));
            ring.close();
            ring.close();
            assertFalse(Fds.isOpen(fd));
            assertThrows(IllegalStateException.class, ring::cqReady);
            assertThrows(IllegalStateException.class, ring::submit);
        });
    }

    @Test
    void ringFdIsReadableWhenCompletionsWaitAndBadFdPollsFailInTheCqe() throws Exception {
        FdLeaks.check(() -> {
            try (IoUring ring = IoUring.open(8, 0); PollSet ps = new PollSet()) {
                ps.set(0, ring.fd(), FdEvents.IN);
                assertEquals(0, ps.ppoll(1, 0), "no CQEs: ring fd not readable");
                int[] p = Fds.pipe();
                Fds.close(p[0]);
                Fds.close(p[1]);
                ring.prepPollAdd(ring.nextSqe(), p[0], FdEvents.IN, 3);
                ring.submit();
                assertEquals(1, ps.ppoll(1, 5_000_000_000L), "a CQE makes the ring fd readable");
                assertEquals(Map.of(3L, -Errno.EBADF), reap(ring));
                assertEquals(0, ps.ppoll(1, 0));
            }
        });
    }
}
