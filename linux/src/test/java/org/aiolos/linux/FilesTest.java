package org.aiolos.linux;

import org.aiolos.linux.faults.Faults;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FilesTest {
    @TempDir
    Path dir;

    @AfterEach
    void clear() {
        Faults.clear();
    }

    private int create(String name) {
        return Files.open(dir.resolve(name).toString(), Files.O_RDWR | Files.O_CREAT | Files.O_TRUNC, 0600);
    }

    private static MemorySegment pattern(Arena a, int size, int seed) {
        MemorySegment s = a.allocate(size);
        for (int i = 0; i < size; i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + seed));
        }
        return s;
    }

    @Test
    void openErrorsNameThePath() {
        String missing = dir.resolve("nope").toString();
        SyscallException e = assertThrows(SyscallException.class, () -> Files.open(missing, Files.O_RDONLY, 0));
        assertEquals("open", e.call());
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains(missing), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Files.open("", Files.O_RDONLY, 0));
        assertThrows(IllegalArgumentException.class, () -> Files.open(missing, Files.O_RDONLY, -1));
    }

    @Test
    void preadPwriteAndSize() throws Exception {
        FdLeaks.check(() -> {
            int fd = create("a");
            try (Arena a = Arena.ofConfined()) {
                MemorySegment w = pattern(a, 10_000, 3);
                assertEquals(10_000, Files.pwrite(fd, w, 10_000, 4096));
                assertEquals(14_096, Files.size(fd));
                MemorySegment r = a.allocate(10_000);
                assertEquals(10_000, Files.pread(fd, r, 10_000, 4096));
                assertArrayEquals(w.toArray(ValueLayout.JAVA_BYTE), r.toArray(ValueLayout.JAVA_BYTE));
                assertEquals(96, Files.pread(fd, r, 10_000, 14_000), "short read at EOF");
                assertEquals(0, Files.pread(fd, r, 10, 20_000));
                Files.fdatasync(fd);
                Files.ftruncate(fd, 100);
                assertEquals(100, Files.size(fd));
                Files.fallocate(fd, 0, 0, 1 << 20);
                assertEquals(1 << 20, Files.size(fd));
                Files.fallocate(fd, Files.FALLOC_FL_KEEP_SIZE, 1 << 20, 1 << 20);
                assertEquals(1 << 20, Files.size(fd), "KEEP_SIZE does not grow the size");
            } finally {
                Fds.close(fd);
            }
        });
    }

    @Test
    void seekDataAndHoleFindTheExtents() throws Exception {
        FdLeaks.check(() -> {
            int fd = create("sparse");
            try (Arena a = Arena.ofConfined()) {
                Files.ftruncate(fd, 4 << 20);
                assertEquals(-1, Files.seekData(fd, 0), "all hole: ENXIO");
                assertEquals(0, Files.seekHole(fd, 0));
                MemorySegment w = pattern(a, 1 << 20, 5);
                assertEquals(1 << 20, Files.pwrite(fd, w, 1 << 20, 1 << 20));
                long data = Files.seekData(fd, 0);
                assertTrue(data <= 1 << 20, "data at " + data);
                long hole = Files.seekHole(fd, 1 << 20);
                assertTrue(hole >= 2 << 20 && hole <= 4 << 20, "hole at " + hole);
                assertEquals(-1, Files.seekHole(fd, 4 << 20), "at the end: ENXIO");
                assertThrows(IllegalArgumentException.class, () -> Files.seekData(fd, -1));
            } finally {
                Fds.close(fd);
            }
        });
        SyscallException e = assertThrows(SyscallException.class, () -> Files.seekData(1 << 20, 0));
        assertEquals("lseek", e.call());
        assertEquals(Errno.EBADF, e.errno());
    }

    @Test
    void vectoredRoundTripAndShortCap() throws Exception {
        FdLeaks.check(() -> {
            int fd = create("v");
            try (Arena a = Arena.ofConfined(); IoVecArray iov = new IoVecArray(3)) {
                MemorySegment b0 = pattern(a, 100, 1);
                MemorySegment b1 = pattern(a, 200, 2);
                MemorySegment b2 = pattern(a, 300, 3);
                iov.set(0, b0).set(1, b1).set(2, b2);
                assertEquals(600, Files.pwritev(fd, iov.address(), iov.count(), 0));
                MemorySegment r0 = a.allocate(100);
                MemorySegment r1 = a.allocate(200);
                MemorySegment r2 = a.allocate(300);
                iov.clear();
                iov.set(0, r0).set(1, r1).set(2, r2);
                Faults.shortNth("preadv", 1, 250);
                assertEquals(250, Files.preadv(fd, iov.address(), iov.count(), 0), "capped inside the second iovec");
                assertEquals(200, iov.length(1), "the iovec array is restored after a capped call");
                assertEquals(600, Files.preadv(fd, iov.address(), iov.count(), 0));
                assertArrayEquals(b1.toArray(ValueLayout.JAVA_BYTE), r1.toArray(ValueLayout.JAVA_BYTE));
                assertArrayEquals(b2.toArray(ValueLayout.JAVA_BYTE), r2.toArray(ValueLayout.JAVA_BYTE));
                Faults.shortNth("pwritev", 1, 100);
                assertEquals(100, Files.pwritev(fd, iov.address(), 3, 1000));
                Faults.shortNth("pwrite", 1, 1);
                assertEquals(1, Files.pwrite(fd, b0, 100, 0));
                Faults.failNth("pread", 1, Errno.EINTR);
                assertEquals(-Errno.EINTR, Files.pread(fd, r0, 100, 0));
                Faults.failNth("preadv", 1, Errno.EAGAIN);
                assertEquals(-Errno.EAGAIN, Files.preadv(fd, iov.address(), 3, 0));
                Faults.failNth("pwritev", 1, Errno.ENOSPC);
                SyscallException e = assertThrows(SyscallException.class, () -> Files.pwritev(fd, iov.address(), 3, 0));
                assertEquals("pwritev", e.call());
                assertEquals("ENOSPC", e.errnoName());
            } finally {
                Fds.close(fd);
            }
        });
    }

    @Test
    void closedDescriptorErrors() throws Exception {
        FdLeaks.check(() -> {
            int fd = create("c");
            Fds.close(fd);
            try (Arena a = Arena.ofConfined(); IoVecArray iov = new IoVecArray(1)) {
                MemorySegment b = a.allocate(8);
                iov.set(0, b);
                assertEquals("pread", assertThrows(SyscallException.class, () -> Files.pread(fd, b, 8, 0)).call());
                assertEquals("pwrite", assertThrows(SyscallException.class, () -> Files.pwrite(fd, b, 8, 0)).call());
                assertEquals("preadv", assertThrows(SyscallException.class, () -> Files.preadv(fd, iov.address(), 1, 0)).call());
                assertEquals("pwritev", assertThrows(SyscallException.class, () -> Files.pwritev(fd, iov.address(), 1, 0)).call());
                SyscallException s = assertThrows(SyscallException.class, () -> Files.fdatasync(fd));
                assertEquals("fdatasync", s.call());
                assertEquals(Errno.EBADF, s.errno());
                assertEquals("ftruncate", assertThrows(SyscallException.class, () -> Files.ftruncate(fd, 0)).call());
                assertEquals("fallocate", assertThrows(SyscallException.class, () -> Files.fallocate(fd, 0, 0, 1)).call());
                SyscallException st = assertThrows(SyscallException.class, () -> Files.size(fd));
                assertEquals("statx", st.call());
                assertEquals("EBADF", st.errnoName());
                assertThrows(IllegalArgumentException.class, () -> Files.pread(fd, b, -1, 0));
                assertThrows(IllegalArgumentException.class, () -> Files.pread(fd, b, 8, -1));
                assertThrows(IllegalArgumentException.class, () -> Files.ftruncate(fd, -1));
                assertThrows(IllegalArgumentException.class, () -> Files.fallocate(fd, 0, 0, 0));
                assertThrows(IllegalArgumentException.class, () -> Files.preadv(fd, iov.address(), -1, 0));
            }
        });
    }

    @Test
    void directIoAlignmentAndODirectWrite() throws Exception {
        FdLeaks.check(() -> {
            int fd = Files.open(dir.resolve("d").toString(),
                    Files.O_RDWR | Files.O_CREAT | Files.O_TRUNC | Files.O_DIRECT, 0600);
            try (Arena a = Arena.ofConfined()) {
                DirectIoAlignment al = Files.alignment(fd);
                System.out.println("FilesTest: O_DIRECT alignment on the temp dir's filesystem: " + al);
                assertTrue(al.memoryAlignment() >= 1 && al.offsetAlignment() >= 512, al.toString());
                long block = Math.max(al.offsetAlignment(), al.memoryAlignment());
                MemorySegment buf = AlignedBuffers.allocate(a, 2 * block, al.memoryAlignment());
                assertTrue(AlignedBuffers.isAligned(buf, al.memoryAlignment()));
                buf.fill((byte) 0x5a);
                assertEquals(2 * block, Files.pwrite(fd, buf, 2 * block, block));
                MemorySegment back = AlignedBuffers.allocate(a, 2 * block, al.memoryAlignment());
                assertEquals(2 * block, Files.pread(fd, back, 2 * block, block));
                assertEquals((byte) 0x5a, back.get(ValueLayout.JAVA_BYTE, 2 * block - 1));
                Faults.failNth("statx", 1, Errno.ENOSYS);
                DirectIoAlignment fb = Files.alignment(fd);
                assertEquals(new DirectIoAlignment(4096, 4096, "fallback"), fb);
            } finally {
                Fds.close(fd);
            }
        });
    }
}
