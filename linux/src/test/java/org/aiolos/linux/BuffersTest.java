package org.aiolos.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** AlignedBuffers and IoVecArray. */
class BuffersTest {
    @Test
    void mappedBuffersArePageAlignedZeroedAndUnmappedWithTheirArena() throws Exception {
        Arena a = Arena.ofShared();
        MemorySegment m = AlignedBuffers.map(a, (3 << 20) + 1);
        assertEquals((3 << 20) + 4096, m.byteSize(), "rounded up to whole pages");
        assertTrue(AlignedBuffers.isAligned(m, 4096));
        assertEquals(0, m.get(java.lang.foreign.ValueLayout.JAVA_LONG, m.byteSize() - 8), "zeroed");
        m.fill((byte) 7);
        String start = Long.toHexString(m.address()) + "-";
        assertTrue(java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps")).stream()
                .anyMatch(l -> l.startsWith(start)), "mapped");
        a.close();
        assertTrue(java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps")).stream()
                .noneMatch(l -> l.startsWith(start)), "unmapped when the arena closed");
        assertThrows(IllegalArgumentException.class, () -> AlignedBuffers.map(Arena.global(), 0));
        assertThrows(NullPointerException.class, () -> AlignedBuffers.map(null, 4096));
    }

    @Test
    void alignedAllocation() {
        try (Arena a = Arena.ofConfined()) {
            for (long al : new long[] {1, 8, 512, 4096, 1 << 16}) {
                MemorySegment s = AlignedBuffers.allocate(a, 3 * al, al);
                assertEquals(3 * al, s.byteSize());
                assertTrue(AlignedBuffers.isAligned(s, al), "aligned to " + al);
            }
            assertEquals(0, AlignedBuffers.allocate(a, 0, 4096).byteSize());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> AlignedBuffers.allocate(a, 4096, 3000));
            assertEquals("alignment must be a positive power of two, got 3000", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> AlignedBuffers.allocate(a, 4096, 0));
            assertThrows(IllegalArgumentException.class, () -> AlignedBuffers.allocate(a, 4096, -4096));
            assertEquals("buffer size must be >= 0, got -1",
                    assertThrows(IllegalArgumentException.class, () -> AlignedBuffers.allocate(a, -1, 512)).getMessage());
            assertThrows(NullPointerException.class, () -> AlignedBuffers.allocate(null, 1, 1));
        }
    }

    @Test
    void ioVecArray() {
        try (Arena a = Arena.ofConfined(); IoVecArray iov = new IoVecArray(4)) {
            MemorySegment b0 = a.allocate(10);
            MemorySegment b1 = a.allocate(20);
            assertEquals(0, iov.count());
            iov.set(0, b0).set(1, b1, 5);
            assertEquals(2, iov.count());
            assertEquals(15, iov.totalLength());
            assertEquals(b1.address(), iov.base(1));
            assertEquals(5, iov.length(1));
            assertTrue(iov.address() != 0);
            iov.count(1);
            assertEquals(10, iov.totalLength());
            iov.clear();
            assertEquals(0, iov.count());
            assertThrows(IndexOutOfBoundsException.class, () -> iov.set(4, b0));
            assertThrows(IndexOutOfBoundsException.class, () -> iov.length(0));
            assertThrows(IllegalArgumentException.class, () -> iov.set(0, b0, 11));
            assertThrows(IllegalArgumentException.class, () -> iov.set(0, b0, -1));
            assertThrows(IllegalArgumentException.class, () -> iov.set(0, MemorySegment.ofArray(new byte[4])));
            Arena closed = Arena.ofShared();
            MemorySegment freed = closed.allocate(64);
            closed.close();
            IllegalArgumentException dead = assertThrows(IllegalArgumentException.class, () -> iov.set(2, freed));
            assertEquals("iovec buffer 2 is no longer alive: its arena is closed", dead.getMessage());
            assertThrows(IllegalArgumentException.class, () -> iov.count(5));
            iov.close();
            assertThrows(IllegalStateException.class, iov::address);
        }
        assertThrows(IllegalArgumentException.class, () -> new IoVecArray(0));
        assertThrows(IllegalArgumentException.class, () -> new IoVecArray(IoVecArray.UIO_MAXIOV + 1));
    }
}
