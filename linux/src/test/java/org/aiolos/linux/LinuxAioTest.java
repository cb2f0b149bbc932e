package org.aiolos.linux;

import org.aiolos.linux.faults.Faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.aiolos.api.FdEvents;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinuxAioTest {
    private static final int BLOCK = 4096;

    @TempDir
    Path dir;

    @AfterEach
    void clear() {
        Faults.clear();
    }

    /** Waits on the RESFD eventfd and reaps through the user ring until {@code n} events are in. */
    private static Map<Long, Long> awaitViaUserRing(long ctx, EventFd notifier, IoEventArray evs, int n) {
        Map<Long, Long> results = new HashMap<>();
        try (PollSet ps = new PollSet()) {
            ps.set(0, notifier.fd(), FdEvents.IN);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (results.size() < n) {
                assertTrue(System.nanoTime() < deadline, "completions did not arrive");
                if (!UserRing.hasEvents(ctx)) {
                    ps.ppoll(1, 100_000_000L);
                    notifier.testAndClear();
                    continue;
                }
                int got = UserRing.reap(ctx, evs, evs.capacity());
                for (int i = 0; i < got; i++) {
                    results.put(evs.data(i), evs.res(i));
                }
            }
        }
        return results;
    }

    @Test
    void oDirectBlocksWithEventfdAndUserRing() throws Exception {
        FdLeaks.check(() -> {
            int fd = Files.open(dir.resolve("disk").toString(),
                    Files.O_RDWR | Files.O_CREAT | Files.O_TRUNC | Files.O_DIRECT, 0600);
            long ctx = LinuxAio.setup(128);
            try (EventFd notifier = EventFd.open(false); Arena a = Arena.ofConfined();
                 IocbArray iocbs = new IocbArray(8); IoEventArray evs = new IoEventArray(8);
                 IoVecArray iov0 = new IoVecArray(2); IoVecArray iov1 = new IoVecArray(2)) {
                DirectIoAlignment al = Files.alignment(fd);
                long align = Math.max(al.memoryAlignment(), 4096);
                MemorySegment w = AlignedBuffers.allocate(a, 4L * BLOCK, align);
                for (int i = 0; i < 4 * BLOCK; i++) {
                    w.set(ValueLayout.JAVA_BYTE, i, (byte) (i / BLOCK + i * 13));
                }
                // Blocks 0-1 with one PWRITEV of two iovecs, 2 and 3 with plain PWRITEs.
                iov0.set(0, w.asSlice(0, BLOCK)).set(1, w.asSlice(BLOCK, BLOCK));
                iocbs.prepPwritev(0, fd, iov0.address(), 2, 0, 100, 0);
                iocbs.prepPwrite(1, fd, w.address() + 2L * BLOCK, BLOCK, 2L * BLOCK, 102);
                iocbs.prepPwrite(2, fd, w.address() + 3L * BLOCK, BLOCK, 3L * BLOCK, 103);
                for (int i = 0; i < 3; i++) {
                    iocbs.setResfd(i, notifier.fd());
                }
                assertEquals(3, LinuxAio.submit(ctx, 3, iocbs.pointers()));
                assertEquals(Map.of(100L, 2L * BLOCK, 102L, (long) BLOCK, 103L, (long) BLOCK),
                        awaitViaUserRing(ctx, notifier, evs, 3));
                assertFalse(UserRing.hasEvents(ctx));

                iocbs.prepFdsync(0, fd, 200);
                iocbs.setResfd(0, notifier.fd());
                assertEquals(1, LinuxAio.submit(ctx, 1, iocbs.pointers()));
                assertEquals(Map.of(200L, 0L), awaitViaUserRing(ctx, notifier, evs, 1));

                MemorySegment r = AlignedBuffers.allocate(a, 4L * BLOCK, align);
                iov1.set(0, r.asSlice(0, 2L * BLOCK)).set(1, r.asSlice(2L * BLOCK, BLOCK));
                iocbs.prepPreadv(0, fd, iov1.address(), 2, 0, 300, 0);
                iocbs.prepPread(1, fd, r.address() + 3L * BLOCK, BLOCK, 3L * BLOCK, 301);
                iocbs.setResfd(0, notifier.fd());
                iocbs.setResfd(1, notifier.fd());
                assertEquals(2, LinuxAio.submit(ctx, 2, iocbs.pointers()));
                assertEquals(Map.of(300L, 3L * BLOCK, 301L, (long) BLOCK), awaitViaUserRing(ctx, notifier, evs, 2));
                assertEquals(-1L, r.mismatch(w), "the 4 blocks read back equal what was written");
                assertEquals(4L * BLOCK, Files.size(fd));
            } finally {
                LinuxAio.destroy(ctx);
                Fds.close(fd);
            }
        });
    }

    @Test
    void misalignedODirectBufferCompletesWithEinval() throws Exception {
        FdLeaks.check(() -> {
            int fd = Files.open(dir.resolve("disk").toString(),
                    Files.O_RDWR | Files.O_CREAT | Files.O_TRUNC | Files.O_DIRECT, 0600);
            long ctx = LinuxAio.setup(8);
            try (Arena a = Arena.ofConfined(); IocbArray iocbs = new IocbArray(1); IoEventArray evs = new IoEventArray(1)) {
                MemorySegment buf = AlignedBuffers.allocate(a, 2L * BLOCK, BLOCK);
                iocbs.prepPwrite(0, fd, buf.address() + 1, BLOCK, 0, 7);
                assertEquals(1, LinuxAio.submit(ctx, 1, iocbs.pointers()), "accepted; the error comes as the result");
                assertEquals(1, LinuxAio.getEvents(ctx, 1, 1, evs, 5_000_000_000L));
                assertEquals(7, evs.data(0));
                assertEquals(-Errno.EINVAL, evs.res(0));
                assertEquals(iocbs.address(0), evs.obj(0));
                assertEquals(0, evs.res2(0));
            } finally {
                LinuxAio.destroy(ctx);
                Fds.close(fd);
            }
        });
    }

    @Test
    void getEventsTimesOutWithNsPrecision() throws Exception {
        long ctx = LinuxAio.setup(4);
        try (IoEventArray evs = new IoEventArray(4)) {
            long t0 = System.nanoTime();
            assertEquals(0, LinuxAio.getEvents(ctx, 1, 4, evs, 2_000_000));
            long dt = System.nanoTime() - t0;
            assertTrue(dt >= 2_000_000, "waited " + dt + " ns");
            assertEquals(0, LinuxAio.getEvents(ctx, 0, 4, evs, 0));
            assertEquals(0, UserRing.reap(ctx, evs, 4));
            assertThrows(IllegalArgumentException.class, () -> LinuxAio.getEvents(ctx, 2, 1, evs, 0));
            assertThrows(IllegalArgumentException.class, () -> LinuxAio.getEvents(ctx, 0, 5, evs, 0));
        } finally {
            LinuxAio.destroy(ctx);
        }
    }

    @Test
    void eagainIsReturnedOtherSubmitErrorsThrow() throws Exception {
        FdLeaks.check(() -> {
            long ctx = LinuxAio.setup(4);
            int[] p = Fds.pipe();
            Fds.close(p[0]);
            Fds.close(p[1]);
            try (Arena a = Arena.ofConfined(); IocbArray iocbs = new IocbArray(2); IoEventArray evs = new IoEventArray(2)) {
                MemorySegment buf = a.allocate(8);
                iocbs.prepPread(0, p[0], buf.address(), 8, 0, 1);
                // EAGAIN (the kernel could not queue: too many requests in flight) is returned.
                Faults.failNth("io_submit", 1, Errno.EAGAIN);
                assertEquals(-Errno.EAGAIN, LinuxAio.submit(ctx, 1, iocbs.pointers()));
                // A closed descriptor is rejected at submission: EBADF throws.
                SyscallException e = assertThrows(SyscallException.class, () -> LinuxAio.submit(ctx, 1, iocbs.pointers()));
                assertEquals("io_submit", e.call());
                assertEquals(Errno.EBADF, e.errno());
                assertThrows(IllegalArgumentException.class, () -> LinuxAio.submit(ctx, 3, iocbs.pointers()));
                Faults.failNth("io_getevents", 1, Errno.EINTR);
                assertEquals(-Errno.EINTR, LinuxAio.getEvents(ctx, 1, 1, evs, -1));
            } finally {
                LinuxAio.destroy(ctx);
            }
            SyscallException d = assertThrows(SyscallException.class, () -> LinuxAio.destroy(ctx));
            assertEquals("io_destroy", d.call());
            assertEquals(Errno.EINVAL, d.errno());
        });
    }

    @Test
    void setupFailuresAndBadArguments() {
        Faults.failNth("io_setup", 1, Errno.EAGAIN);
        SyscallException e = assertThrows(SyscallException.class, () -> LinuxAio.setup(1024));
        assertEquals("io_setup", e.call());
        assertEquals("io_setup(1024 events): EAGAIN (Resource temporarily unavailable)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LinuxAio.setup(0));
        assertThrows(IllegalArgumentException.class, () -> new IocbArray(0));
        assertThrows(IllegalArgumentException.class, () -> new IoEventArray(-1));
        try (IocbArray iocbs = new IocbArray(2)) {
            assertThrows(IllegalArgumentException.class, () -> iocbs.prepPread(0, 0, 0, -1, 0, 0));
            assertThrows(IllegalArgumentException.class, () -> iocbs.prepPwrite(0, 0, 0, 1, -1, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> iocbs.prepFdsync(2, 0, 0));
            iocbs.prepPwrite(1, 5, 0x1000, 512, 4096, 77);
            assertEquals(IocbArray.IOCB_CMD_PWRITE, iocbs.opcode(1));
            assertEquals(77, iocbs.userData(1));
            iocbs.setPointer(0, 1);
            assertEquals(iocbs.address(1), iocbs.pointers().get(ValueLayout.JAVA_LONG, 0));
        }
    }

    @Test
    void untrustedRingFallsBackToIoGetevents() {
        try (Arena a = Arena.ofConfined(); IoEventArray evs = new IoEventArray(2)) {
            MemorySegment fake = a.allocate(64, 8); // magic 0: not an aio_ring
            assertFalse(UserRing.hasEvents(fake.address()));
            SyscallException e = assertThrows(SyscallException.class, () -> UserRing.reap(fake.address(), evs, 2));
            assertEquals("io_getevents", e.call(), "the fallback asked the kernel");
            assertEquals(Errno.EINVAL, e.errno());
        }
    }

    @Test
    void userRingHeaderIsTheKernels() {
        long ctx = LinuxAio.setup(16);
        try {
            MemorySegment ring = MemorySegment.ofAddress(ctx).reinterpret(32);
            assertEquals(UserRing.AIO_RING_MAGIC, ring.get(ValueLayout.JAVA_INT, 16));
            assertTrue(ring.get(ValueLayout.JAVA_INT, 4) >= 16, "nr");
            assertEquals(32, ring.get(ValueLayout.JAVA_INT, 28), "header_length");
        } finally {
            LinuxAio.destroy(ctx);
        }
    }
}
