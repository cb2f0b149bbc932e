package org.aiolos.diskio;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.aiolos.api.diskio.DiskFile;
import org.aiolos.linux.Errno;
import org.junit.jupiter.api.Test;

/** The result rules every engine shares, driven with made-up kernel answers. */
class DiskRequestTest {
    private final long[] completed = {Long.MIN_VALUE};

    private static long iovBase(DiskRequest r, int i) {
        return MemorySegment.ofAddress(r.iovAddress()).reinterpret(16L * (i + 1)).get(JAVA_LONG, 16L * i);
    }

    private static long iovLen(DiskRequest r, int i) {
        return MemorySegment.ofAddress(r.iovAddress()).reinterpret(16L * (i + 1)).get(JAVA_LONG, 16L * i + 8);
    }

    @Test
    void aShortTransferIsResubmittedForTheRemainderAcrossBuffers() {
        try (Arena a = Arena.ofConfined(); DiskRequestPool pool = new DiskRequestPool(2)) {
            MemorySegment b0 = a.allocate(100);
            MemorySegment b1 = a.allocate(200);
            DiskRequest r = pool.acquire(DiskRequest.Kind.READ, DiskFile.buffered(3), 1000,
                    new MemorySegment[] {b0, b1}, false, v -> completed[0] = v);
            assertEquals(2, r.iovCount());
            assertFalse(r.onResult(150), "50 bytes into the second buffer: resubmit");
            assertEquals(1150, r.position());
            assertEquals(1, r.iovCount());
            assertEquals(b1.address() + 50, iovBase(r, 0));
            assertEquals(150, iovLen(r, 0));
            assertFalse(r.onResult(-Errno.EAGAIN), "EAGAIN: the same remainder again");
            assertEquals(1150, r.position());
            assertTrue(r.onResult(150));
            assertEquals(300, r.result());
            pool.finish(r, null);
            assertEquals(300, completed[0]);
            assertEquals(0, pool.inUse());
        }
    }

    @Test
    void endOfFileZeroFillsTheRestAndReportsTheBytesRead() {
        try (Arena a = Arena.ofConfined(); DiskRequestPool pool = new DiskRequestPool(1)) {
            MemorySegment b0 = a.allocate(100).fill((byte) 1);
            MemorySegment b1 = a.allocate(100).fill((byte) 1);
            DiskRequest r = pool.acquire(DiskRequest.Kind.READ, DiskFile.buffered(3), 0,
                    new MemorySegment[] {b0, b1}, false, v -> { });
            assertFalse(r.onResult(60));
            assertTrue(r.onResult(0), "no progress: end of file");
            assertEquals(60, r.result());
            pool.finish(r, null); // the fill waits for the home thread's finish
            assertEquals(1, b0.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 59));
            assertEquals(0, b0.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 60));
            assertEquals(0, b1.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 99));
        }
    }

    @Test
    void aRequestPastTheLargestFilePositionIsRefusedNamingIt() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment[] bufs = {a.allocate(4096), a.allocate(4096)};
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> DiskRequest.validate(DiskRequest.Kind.WRITE, DiskFile.buffered(3), Long.MAX_VALUE - 5000, bufs));
            assertEquals("write on fd 3: offset " + (Long.MAX_VALUE - 5000) + " plus the buffers' length passes the"
                    + " largest file position, " + Long.MAX_VALUE, e.getMessage());
            DiskRequest.validate(DiskRequest.Kind.READ, DiskFile.buffered(3), Long.MAX_VALUE - 8192, bufs); // ends at it
        }
    }

    @Test
    void aWriteThatMakesNoProgressFailsWithEnospc() {
        try (Arena a = Arena.ofConfined(); DiskRequestPool pool = new DiskRequestPool(1)) {
            DiskRequest r = pool.acquire(DiskRequest.Kind.WRITE, DiskFile.buffered(3), 0,
                    new MemorySegment[] {a.allocate(4096)}, false, v -> { });
            assertFalse(r.onResult(1024));
            assertTrue(r.onResult(0));
            assertEquals(-Errno.ENOSPC, r.result());
        }
    }

    @Test
    void aShortODirectTransferEndingMisalignedStops() {
        try (Arena a = Arena.ofConfined(); DiskRequestPool pool = new DiskRequestPool(1)) {
            DiskFile direct = new DiskFile(3, true, 512, 512);
            DiskRequest read = pool.acquire(DiskRequest.Kind.READ, direct, 0,
                    new MemorySegment[] {a.allocate(4096, 512)}, false, v -> { });
            assertFalse(read.onResult(1024), "aligned remainder: resubmit");
            assertTrue(read.onResult(100), "the file ends inside a block");
            assertEquals(1124, read.result());
            pool.release(read);
            DiskRequest write = pool.acquire(DiskRequest.Kind.WRITE, direct, 0,
                    new MemorySegment[] {a.allocate(4096, 512)}, false, v -> { });
            assertTrue(write.onResult(100));
            assertEquals(-Errno.ENOSPC, write.result());
        }
    }

    @Test
    void errorsOtherThanEintrAndEagainAreFinal() {
        try (Arena a = Arena.ofConfined(); DiskRequestPool pool = new DiskRequestPool(1)) {
            DiskRequest r = pool.acquire(DiskRequest.Kind.READ, DiskFile.buffered(3), 0,
                    new MemorySegment[] {a.allocate(8)}, false, v -> { });
            assertFalse(r.onResult(-Errno.EINTR));
            assertTrue(r.onResult(-Errno.EIO));
            assertEquals(-Errno.EIO, r.result());
        }
    }

    @Test
    void validationNamesTheValueAndTheAlignment() {
        DiskFile direct = new DiskFile(5, true, 512, 4096);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ok = a.allocate(8192, 4096);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DiskRequest.validate(DiskRequest.Kind.READ, direct, 512, new MemorySegment[] {ok}));
            assertEquals("O_DIRECT read on fd 5: offset 512 is not a multiple of the 4096-byte offset alignment",
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> DiskRequest.validate(DiskRequest.Kind.WRITE,
                    direct, 0, new MemorySegment[] {ok, ok.asSlice(256, 4096)}));
            assertTrue(e.getMessage().contains("buffer 1 address") && e.getMessage().contains("512-byte memory"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> DiskRequest.validate(DiskRequest.Kind.WRITE,
                    direct, 0, new MemorySegment[] {ok.asSlice(0, 1024)}));
            assertTrue(e.getMessage().contains("length 1024") && e.getMessage().contains("4096-byte"), e.getMessage());
            DiskRequest.validate(DiskRequest.Kind.READ, direct, 4096, new MemorySegment[] {ok});
        }
    }
}
