package org.aiolos.nbd;

import static org.aiolos.nbd.NbdFixture.image;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The protocol, request by request, with a Java client: negotiation, commands, errors, bad clients. */
class NbdProtocolTest {
    static final int SIZE = 1 << 20;

    @TempDir
    Path dir;
    NbdFixture f;
    Path img;
    byte[] original;

    @BeforeEach
    void setUp() throws IOException {
        f = new NbdFixture();
        img = image(dir, "img", SIZE, 7);
        original = Files.readAllBytes(img);
        f.server.addExport(new ExportSpec("rw", img, false, false, "writable", null));
        f.server.addExport(new ExportSpec("ro", img, true, false, null, null));
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    private RawNbdClient client() throws IOException {
        return new RawNbdClient(f.server.port());
    }

    @Test
    void exportNameWithAndWithoutZeroes() throws IOException {
        try (RawNbdClient c = client()) {
            assertEquals(3, c.greet(1), "FIXED_NEWSTYLE | NO_ZEROES");
            c.option(1, "rw".getBytes(StandardCharsets.UTF_8));
            assertEquals(SIZE, c.in.readLong());
            int flags = c.in.readUnsignedShort();
            assertEquals(1 | 4 | 8 | 32 | 64 | 256 | 2048, flags, "HAS_FLAGS FLUSH FUA TRIM WRITE_ZEROES MULTI_CONN FAST_ZERO");
            byte[] zeros = new byte[124];
            c.in.readFully(zeros);
            assertArrayEquals(new byte[124], zeros);
            assertArrayEquals(Arrays.copyOfRange(original, 100, 200), c.read(1, 100, 100));
        }
        try (RawNbdClient c = client()) {
            c.greet(3);
            c.option(1, "ro".getBytes(StandardCharsets.UTF_8));
            assertEquals(SIZE, c.in.readLong());
            assertEquals(1 | 2 | 4 | 8 | 256, c.in.readUnsignedShort(), "read-only flags");
            // No zeroes: the next bytes are the reply to this read.
            assertArrayEquals(Arrays.copyOfRange(original, 0, 16), c.read(2, 0, 16));
        }
    }

    @Test
    void infoGivesExportNameDescriptionAndBlockSize() throws IOException {
        try (RawNbdClient c = client()) {
            c.greet(3);
            c.option(6, RawNbdClient.goData("rw", 1, 2, 3));
            List<RawNbdClient.OptReply> replies = new ArrayList<>();
            RawNbdClient.OptReply r;
            while ((r = c.optReply()).type() != 1) {
                assertEquals(3, r.type(), "NBD_REP_INFO");
                replies.add(r);
            }
            assertEquals(4, replies.size());
            ByteBuffer export = ByteBuffer.wrap(replies.get(0).data());
            assertEquals(0, export.getShort());
            assertEquals(SIZE, export.getLong());
            assertEquals("\0\1rw", replies.get(1).text());
            assertEquals("\0\2writable", replies.get(2).text());
            ByteBuffer bs = ByteBuffer.wrap(replies.get(3).data());
            assertEquals(3, bs.getShort());
            assertEquals(1, bs.getInt());
            assertEquals(4096, bs.getInt());
            assertEquals(32 << 20, bs.getInt());
            // INFO leaves the client in negotiation; GO then enters transmission.
            c.option(7, RawNbdClient.goData("rw"));
            while (c.optReply().type() != 1) {
                // info replies
            }
            assertArrayEquals(Arrays.copyOfRange(original, 5, 10), c.read(3, 5, 5));
        }
    }

    @Test
    void listAbortUnknownAndUnsupportedOptions() throws IOException {
        try (RawNbdClient c = client()) {
            c.greet(3);
            c.option(3, new byte[0]);
            Set<String> names = new HashSet<>();
            RawNbdClient.OptReply r;
            while ((r = c.optReply()).type() == 2) {
                ByteBuffer b = ByteBuffer.wrap(r.data());
                int n = b.getInt();
                names.add(new String(r.data(), 4, n, StandardCharsets.UTF_8));
            }
            assertEquals(1, r.type());
            assertEquals(Set.of("rw", "ro"), names);
            c.option(3, new byte[] {1});
            assertEquals(0x80000003, c.optReply().type(), "LIST with data: ERR_INVALID");
            c.option(5, new byte[0]);
            assertEquals(0x80000001, c.optReply().type(), "STARTTLS: ERR_UNSUP");
            c.option(10, metaData("rw", "base:allocation"));
            assertEquals(0x80000003, c.optReply().type(), "SET_META_CONTEXT before STRUCTURED_REPLY: ERR_INVALID");
            c.option(11, new byte[0]);
            assertEquals(0x80000001, c.optReply().type(), "EXTENDED_HEADERS: ERR_UNSUP");
            c.option(4242, new byte[100]);
            RawNbdClient.OptReply unknown = c.optReply();
            assertEquals(0x80000001, unknown.type());
            assertEquals(4242, unknown.option());
            c.option(7, RawNbdClient.goData("nope"));
            RawNbdClient.OptReply missing = c.optReply();
            assertEquals(0x80000006, missing.type(), "GO on an unknown export: ERR_UNKNOWN");
            assertTrue(missing.text().contains("nope"), missing.text());
            c.option(7, new byte[] {0, 0, 0, 9, 1});
            assertEquals(0x80000003, c.optReply().type(), "truncated GO: ERR_INVALID");
            c.option(8, new byte[0]);
            assertEquals(1, c.optReply().type());
            c.option(8, new byte[0]);
            assertEquals(0x80000003, c.optReply().type(), "second STRUCTURED_REPLY: ERR_INVALID");
            c.option(2, new byte[0]);
            assertEquals(1, c.optReply().type(), "ABORT is acknowledged");
            assertTrue(c.closedByServer());
        }
        try (RawNbdClient c = client()) {
            c.greet(3);
            c.option(1, "nope".getBytes(StandardCharsets.UTF_8));
            assertTrue(c.closedByServer(), "EXPORT_NAME of an unknown export closes");
        }
    }

    @Test
    void commandErrorsFollowTheSpec() throws IOException {
        try (RawNbdClient c = client().go("ro", false)) {
            c.write(1, 0, new byte[4096], 0);
            assertEquals(1, c.simpleReply(1), "write to read-only: EPERM");
            c.request(0, 4, 2, 0, 4096);
            c.out.flush();
            assertEquals(1, c.simpleReply(2), "trim of read-only: EPERM");
            c.request(0, 6, 3, 0, 4096);
            c.out.flush();
            assertEquals(1, c.simpleReply(3), "zeroes on read-only: EPERM");
            assertArrayEquals(Arrays.copyOfRange(original, 0, 4096), c.read(4, 0, 4096));
        }
        try (RawNbdClient c = client().go("rw", false)) {
            c.request(0, 0, 1, SIZE - 10, 11);
            c.out.flush();
            assertEquals(22, c.simpleReply(1), "read past the end: EINVAL");
            c.write(2, SIZE - 10, new byte[11], 0);
            assertEquals(28, c.simpleReply(2), "write past the end: ENOSPC");
            c.request(0, 4, 3, SIZE, 1);
            c.out.flush();
            assertEquals(22, c.simpleReply(3), "trim past the end: EINVAL");
            c.request(0, 6, 4, SIZE - 1, 2);
            c.out.flush();
            assertEquals(28, c.simpleReply(4), "zeroes past the end: ENOSPC");
            c.request(0, 0, 5, Long.MIN_VALUE + 5, 10);
            c.out.flush();
            assertEquals(22, c.simpleReply(5), "offset beyond 2^63: EINVAL");
            c.request(0, 0, 6, 0, (32 << 20) + 1);
            c.out.flush();
            assertEquals(22, c.simpleReply(6), "read above the maximum block size: EINVAL");
            c.request(0, 42, 7, 0, 0);
            c.out.flush();
            assertEquals(22, c.simpleReply(7), "unknown command: EINVAL");
            c.request(2, 0, 8, 0, 16);
            c.out.flush();
            assertEquals(22, c.simpleReply(8), "NO_HOLE on READ: EINVAL");
            c.request(0, 0, 9, 0, 0);
            c.out.flush();
            assertEquals(0, c.simpleReply(9), "zero-length read succeeds with no data");
            c.write(10, 0, new byte[0], 0);
            assertEquals(0, c.simpleReply(10), "zero-length write succeeds");
            assertEquals(0, c.flush(11));
            assertArrayEquals(Arrays.copyOfRange(original, SIZE - 16, SIZE), c.read(12, SIZE - 16, 16));
            c.disconnect();
            assertTrue(c.closedByServer(), "NBD_CMD_DISC closes");
        }
        assertArrayEquals(original, Files.readAllBytes(img), "no failed request touched the image");
        ExportStats rw = f.server.exports().stream().filter(s -> s.name().equals("rw")).findFirst().orElseThrow();
        assertEquals(8, rw.errors(), rw.toString());
    }

    @Test
    void writesTrimsZeroesAndFua() throws IOException {
        try (RawNbdClient c = client().go("rw", false)) {
            byte[] data = new byte[10_000];
            new Random(1).nextBytes(data);
            c.write(1, 12_345, data, 1);
            assertEquals(0, c.simpleReply(1));
            assertArrayEquals(data, c.read(2, 12_345, data.length));
            c.request(0, 6, 3, 100_000, 50_000);
            c.out.flush();
            assertEquals(0, c.simpleReply(3));
            assertArrayEquals(new byte[50_000], c.read(4, 100_000, 50_000));
            c.request(2 | 1, 6, 5, 200_000, 7_000);
            c.out.flush();
            assertEquals(0, c.simpleReply(5), "NO_HOLE | FUA zeroes");
            assertArrayEquals(new byte[7_000], c.read(6, 200_000, 7_000));
            c.request(16, 6, 7, 300_000, 4096);
            c.out.flush();
            assertEquals(0, c.simpleReply(7), "FAST_ZERO on a file system with fallocate");
            c.request(0, 4, 8, 400_000, 65_536);
            c.out.flush();
            assertEquals(0, c.simpleReply(8), "trim");
            assertArrayEquals(new byte[65_536], c.read(9, 400_000, 65_536), "ext4/tmpfs holes read as zeros");
        }
        assertEquals(SIZE, Files.size(img), "size unchanged");
        byte[] now = Files.readAllBytes(img);
        assertArrayEquals(Arrays.copyOfRange(original, 0, 12_345), Arrays.copyOfRange(now, 0, 12_345));
        assertArrayEquals(Arrays.copyOfRange(original, 465_536, SIZE), Arrays.copyOfRange(now, 465_536, SIZE));
    }

    @Test
    void structuredRepliesForReads() throws IOException {
        try (RawNbdClient c = client().go("rw", true)) {
            c.request(0, 0, 77, 1000, 3000);
            c.out.flush();
            assertEquals(RawNbdClient.STRUCTURED_MAGIC, c.in.readInt());
            assertEquals(1, c.in.readUnsignedShort(), "DONE");
            assertEquals(1, c.in.readUnsignedShort(), "OFFSET_DATA");
            assertEquals(77, c.in.readLong());
            assertEquals(8 + 3000, c.in.readInt());
            assertEquals(1000, c.in.readLong());
            byte[] d = new byte[3000];
            c.in.readFully(d);
            assertArrayEquals(Arrays.copyOfRange(original, 1000, 4000), d);

            c.request(0, 0, 78, SIZE, 1);
            c.out.flush();
            assertEquals(RawNbdClient.STRUCTURED_MAGIC, c.in.readInt());
            assertEquals(1, c.in.readUnsignedShort());
            assertEquals(0x8001, c.in.readUnsignedShort(), "ERROR chunk");
            assertEquals(78, c.in.readLong());
            int len = c.in.readInt();
            assertEquals(22, c.in.readInt());
            int msgLen = c.in.readUnsignedShort();
            assertEquals(len, 6 + msgLen);
            c.in.readFully(new byte[msgLen]);

            c.request(0, 0, 79, 0, 0);
            c.out.flush();
            assertEquals(RawNbdClient.STRUCTURED_MAGIC, c.in.readInt());
            assertEquals(1, c.in.readUnsignedShort());
            assertEquals(0, c.in.readUnsignedShort(), "NONE for an empty read");
            assertEquals(79, c.in.readLong());
            assertEquals(0, c.in.readInt());
            // Other commands may use simple replies.
            assertEquals(0, c.flush(80));
        }
    }

    /**
     * The error chunk of a structured reply says why the request failed, as QEMU's do, and
     * prints the offset unsigned, as it is on the wire. It used to say "READ of 1024 bytes at
     * 1048064 failed", and "at -512" for an offset of 2^64 - 512.
     */
    @Test
    void errorChunksSayWhyWithTheOffsetUnsigned() throws IOException {
        try (RawNbdClient c = client().go("rw", true)) {
            c.request(0, 0, 1, SIZE - 512, 1024);
            c.request(0, 0, 2, -512L, 1024);
            c.request(0, 0, 3, 0, (32 << 20) + 1);
            c.request(4, 0, 4, 0, 512); // NBD_CMD_FLAG_DF, not served
            c.request(0, 7, 5, 0, 512); // BLOCK_STATUS without a metadata context
            c.out.flush();
            assertEquals(new ErrorChunk(1, 22, "READ of 1024 bytes at 1048064 failed: past the end of the export (size "
                    + SIZE + ")"), errorChunk(c));
            assertEquals(new ErrorChunk(2, 22, "READ of 1024 bytes at 18446744073709551104 failed: past the end of the"
                    + " export (size " + SIZE + ")"), errorChunk(c));
            assertEquals(new ErrorChunk(3, 22, "READ of 33554433 bytes at 0 failed: length exceeds the maximum of"
                    + " 33554432 bytes"), errorChunk(c));
            assertEquals(new ErrorChunk(4, 22, "READ of 512 bytes at 0 failed: unsupported flags 0x4"), errorChunk(c));
            assertEquals(new ErrorChunk(5, 22, "BLOCK_STATUS of 512 bytes at 0 failed: no metadata context was"
                    + " negotiated"), errorChunk(c));
        }
    }

    record ErrorChunk(long cookie, int error, String message) {
    }

    /** Reads a structured reply that must be one NBD_REPLY_TYPE_ERROR chunk with DONE. */
    static ErrorChunk errorChunk(RawNbdClient c) throws IOException {
        assertEquals(RawNbdClient.STRUCTURED_MAGIC, c.in.readInt());
        assertEquals(1, c.in.readUnsignedShort(), "DONE");
        assertEquals(0x8001, c.in.readUnsignedShort(), "ERROR chunk");
        long cookie = c.in.readLong();
        int len = c.in.readInt();
        int error = c.in.readInt();
        byte[] msg = new byte[c.in.readUnsignedShort()];
        assertEquals(len, 6 + msg.length);
        c.in.readFully(msg);
        return new ErrorChunk(cookie, error, new String(msg, StandardCharsets.UTF_8));
    }

    static byte[] metaData(String export, String... queries) {
        byte[] n = export.getBytes(StandardCharsets.UTF_8);
        int len = 4 + n.length + 4;
        for (String q : queries) {
            len += 4 + q.getBytes(StandardCharsets.UTF_8).length;
        }
        ByteBuffer b = ByteBuffer.allocate(len);
        b.putInt(n.length).put(n).putInt(queries.length);
        for (String q : queries) {
            byte[] qb = q.getBytes(StandardCharsets.UTF_8);
            b.putInt(qb.length).put(qb);
        }
        return b.array();
    }

    @Test
    void baseAllocationMetaContextAndBlockStatus() throws IOException {
        Path sparse = dir.resolve("sparse");
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(sparse.toFile(), "rw")) {
            raf.setLength(4 << 20);
            raf.seek(1 << 20);
            raf.write(new byte[1 << 20]); // zeros, but allocated: data
        }
        f.server.addExport(new ExportSpec("sparse", sparse, false, false, null, null));
        try (RawNbdClient c = client()) {
            c.greet(3);
            c.option(9, metaData("sparse"));
            RawNbdClient.OptReply r = c.optReply();
            assertEquals(4, r.type(), "NBD_REP_META_CONTEXT");
            assertEquals("base:allocation", new String(r.data(), 4, r.data().length - 4, StandardCharsets.UTF_8));
            assertEquals(1, c.optReply().type());
            c.option(9, metaData("sparse", "qemu:dirty-bitmap:x"));
            assertEquals(1, c.optReply().type(), "no match: just ACK");
            c.option(8, new byte[0]);
            assertEquals(1, c.optReply().type());
            c.option(10, metaData("nope", "base:allocation"));
            assertEquals(0x80000006, c.optReply().type());
            c.option(10, metaData("sparse", "base:allocation"));
            assertEquals(4, c.optReply().type());
            assertEquals(1, c.optReply().type());
            c.option(7, RawNbdClient.goData("sparse"));
            while (c.optReply().type() != 1) {
                // info replies
            }
            c.request(0, 7, 5, 0, 4 << 20);
            c.out.flush();
            long[] ext = blockStatus(c, 5);
            assertEquals(6, ext.length, Arrays.toString(ext));
            assertArrayEquals(new long[] {1 << 20, 3, 1 << 20, 0, 2 << 20, 3}, ext);
            c.request(8, 7, 6, 0, 4 << 20);
            c.out.flush();
            assertArrayEquals(new long[] {1 << 20, 3}, blockStatus(c, 6), "REQ_ONE: one extent");
            // A success must carry at least one extent, and an empty range has none (it used
            // to get a lone NONE chunk).
            c.request(0, 7, 8, 0, 0);
            c.out.flush();
            assertEquals(new ErrorChunk(8, 22, "BLOCK_STATUS of 0 bytes at 0 failed: need non-zero length"),
                    errorChunk(c));
            c.request(0, 7, 7, 3 << 20, 2 << 20);
            c.out.flush();
            assertEquals(RawNbdClient.STRUCTURED_MAGIC, c.in.readInt());
            c.in.readUnsignedShort();
            assertEquals(0x8001, c.in.readUnsignedShort(), "past the end: an error chunk");
            assertEquals(7, c.in.readLong());
            c.in.readFully(new byte[c.in.readInt()]);
        }
        try (RawNbdClient c = client().go("sparse", true)) {
            c.request(0, 7, 1, 0, 4096);
            c.out.flush();
            assertEquals(RawNbdClient.STRUCTURED_MAGIC, c.in.readInt());
            c.in.readUnsignedShort();
            assertEquals(0x8001, c.in.readUnsignedShort(), "BLOCK_STATUS without a context: error");
            c.in.readLong();
            int len = c.in.readInt();
            assertEquals(22, c.in.readInt());
            c.in.readFully(new byte[len - 4]);
        }
    }

    private static long[] blockStatus(RawNbdClient c, long cookie) throws IOException {
        assertEquals(RawNbdClient.STRUCTURED_MAGIC, c.in.readInt());
        assertEquals(1, c.in.readUnsignedShort(), "DONE");
        assertEquals(5, c.in.readUnsignedShort(), "BLOCK_STATUS chunk");
        assertEquals(cookie, c.in.readLong());
        int len = c.in.readInt();
        assertEquals(1, c.in.readInt(), "context id");
        long[] out = new long[(len - 4) / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = Integer.toUnsignedLong(c.in.readInt());
        }
        return out;
    }

    @Test
    void manyRequestsInFlightArePipelined() throws IOException {
        try (RawNbdClient c = client().go("rw", false)) {
            int n = 200;
            for (int i = 0; i < n; i++) {
                byte[] d = new byte[4096];
                Arrays.fill(d, (byte) i);
                c.request(0, 1, i, (long) i * 4096, 4096);
                c.out.write(d);
            }
            c.out.flush();
            Set<Long> cookies = new HashSet<>();
            for (int i = 0; i < n; i++) {
                assertEquals(RawNbdClient.SIMPLE_MAGIC, c.in.readInt());
                assertEquals(0, c.in.readInt());
                cookies.add(c.in.readLong());
            }
            assertEquals(n, cookies.size());
            for (int i = 0; i < n; i += 37) {
                byte[] want = new byte[4096];
                Arrays.fill(want, (byte) i);
                assertArrayEquals(want, c.read(1000 + i, (long) i * 4096, 4096));
            }
        }
    }

    @Test
    void oversizedWriteGetsEinvalThenTheConnectionCloses() throws IOException {
        try (RawNbdClient c = client().go("rw", false)) {
            c.request(0, 1, 5, 0, (32 << 20) + 1);
            c.out.write(new byte[1000]);
            c.out.flush();
            assertEquals(22, c.simpleReply(5));
            assertTrue(c.closedByServer());
        }
        try (RawNbdClient c = client().go("rw", false)) {
            assertArrayEquals(Arrays.copyOfRange(original, 0, 8), c.read(1, 0, 8), "the server still serves");
        }
        assertArrayEquals(original, Files.readAllBytes(img));
    }

    /**
     * Writes whose payload never arrives whole, and writes over the maximum, give back
     * whatever they took of the export's 256 MiB payload budget: after more of them than
     * the budget holds, the export still answers.
     */
    @Test
    void cutOffAndOversizedWritesGiveTheirPayloadBudgetBack() throws IOException {
        Path big = dir.resolve("big");
        try (var raf = new java.io.RandomAccessFile(big.toFile(), "rw")) {
            raf.setLength(64L << 20);
        }
        f.server.addExport(new ExportSpec("big", big, false, false, null, null));
        for (int i = 0; i < 10; i++) {
            try (RawNbdClient c = client().go("big", false)) {
                c.request(0, 1, i, 0, 32 << 20); // a 32 MiB write, of which 1 MiB comes
                c.out.write(new byte[1 << 20]);
                c.out.flush();
            }
            try (RawNbdClient c = client().go("big", false)) {
                c.request(0, 1, i, 0, (32 << 20) + 1);
                c.out.flush();
                assertEquals(22, c.simpleReply(i));
                assertTrue(c.closedByServer());
            }
        }
        try (RawNbdClient c = client().go("big", false)) {
            assertArrayEquals(new byte[4096], c.read(1, 0, 4096), "the export still serves");
        }
    }

    @Test
    void badMagicAndOversizedOptionClose() throws IOException {
        try (RawNbdClient c = client().go("rw", false)) {
            c.out.writeInt(0x12345678);
            c.out.write(new byte[24]);
            c.out.flush();
            assertTrue(c.closedByServer(), "bad request magic");
        }
        try (RawNbdClient c = client()) {
            c.greet(3);
            c.out.writeLong(RawNbdClient.IHAVEOPT);
            c.out.writeInt(7);
            c.out.writeInt(Integer.MAX_VALUE);
            c.out.flush();
            assertTrue(c.closedByServer(), "a 2 GiB option is refused without allocating it");
        }
        try (RawNbdClient c = client()) {
            c.greet(0x80);
            assertTrue(c.closedByServer(), "unknown client flags");
        }
        try (RawNbdClient c = client().go("ro", true)) {
            assertArrayEquals(Arrays.copyOfRange(original, 0, 8), readStructured(c, 1, 0, 8));
        }
    }

    static byte[] readStructured(RawNbdClient c, long cookie, long off, int len) throws IOException {
        c.request(0, 0, cookie, off, len);
        c.out.flush();
        assertEquals(RawNbdClient.STRUCTURED_MAGIC, c.in.readInt());
        c.in.readUnsignedShort();
        assertEquals(1, c.in.readUnsignedShort());
        assertEquals(cookie, c.in.readLong());
        assertEquals(8 + len, c.in.readInt());
        assertEquals(off, c.in.readLong());
        byte[] d = new byte[len];
        c.in.readFully(d);
        return d;
    }

    @Test
    void directUnalignedWritesSharingBlocksAllLand() throws IOException {
        Path d = image(dir, "direct", SIZE, 8);
        byte[] before = Files.readAllBytes(d);
        f.server.addExport(new ExportSpec("direct", d, false, true, null, null));
        byte[] want = before.clone();
        try (RawNbdClient c = client().go("direct", false)) {
            // 16 writes of 100 bytes into each of 8 blocks, all in flight at once: each is a
            // read-modify-write of a block another one is modifying too.
            Random rnd = new Random(3);
            int cookie = 0;
            for (int block = 0; block < 8; block++) {
                for (int k = 0; k < 16; k++) {
                    long off = block * 8192L + 37 + k * 250L;
                    byte[] data = new byte[100];
                    rnd.nextBytes(data);
                    System.arraycopy(data, 0, want, (int) off, 100);
                    c.request(0, 1, cookie++, off, 100);
                    c.out.write(data);
                }
            }
            c.out.flush();
            for (int i = 0; i < cookie; i++) {
                assertEquals(RawNbdClient.SIMPLE_MAGIC, c.in.readInt());
                assertEquals(0, c.in.readInt());
                c.in.readLong();
            }
            assertArrayEquals(Arrays.copyOfRange(want, 0, 70_000), c.read(9999, 0, 70_000));
        }
        assertArrayEquals(want, Files.readAllBytes(d));
    }

    @Test
    void directTailWritesAndReadModifyWritesOfTheSameBlockBothLand() throws IOException {
        int size = SIZE + 123; // the last 123 bytes are a partial block: the buffered tail path
        Path d = image(dir, "odd", size, 9);
        byte[] want = Files.readAllBytes(d);
        f.server.addExport(new ExportSpec("odd", d, false, true, null, null));
        try (RawNbdClient c = client().go("odd", false)) {
            Random rnd = new Random(4);
            int cookie = 0;
            for (int round = 0; round < 32; round++) {
                // A read-modify-write at the start of the last full block, and a tail write that
                // starts later in that same block and runs to the end of the file.
                long rmwOff = SIZE - 4096 + (round % 8) * 10;
                long tailOff = SIZE - 4096 + 1000 + round;
                byte[] a = new byte[8];
                byte[] b = new byte[(int) (size - tailOff)];
                rnd.nextBytes(a);
                rnd.nextBytes(b);
                System.arraycopy(a, 0, want, (int) rmwOff, a.length);
                System.arraycopy(b, 0, want, (int) tailOff, b.length);
                c.request(0, 1, cookie++, rmwOff, a.length);
                c.out.write(a);
                c.request(0, 1, cookie++, tailOff, b.length);
                c.out.write(b);
                c.out.flush();
                for (int i = 0; i < 2; i++) {
                    assertEquals(RawNbdClient.SIMPLE_MAGIC, c.in.readInt());
                    assertEquals(0, c.in.readInt());
                    c.in.readLong();
                }
            }
        }
        assertEquals(size, Files.size(d), "no block-sized write grew the file");
        assertArrayEquals(want, Files.readAllBytes(d));
    }

    @Test
    void removeExportClosesItsConnectionsAfterTheirRequests() throws Exception {
        try (RawNbdClient c = client().go("rw", false); RawNbdClient other = client().go("ro", false)) {
            assertEquals(0, c.flush(1));
            assertEquals(1, f.server.exports().stream().filter(s -> s.name().equals("rw")).findFirst().orElseThrow()
                    .connections());
            assertTrue(f.server.removeExport("rw"));
            assertFalse(f.server.removeExport("rw"));
            assertTrue(c.closedByServer());
            assertEquals(List.of("ro"), f.server.exports().stream().map(ExportStats::name).toList());
            assertArrayEquals(Arrays.copyOfRange(original, 0, 4), other.read(2, 0, 4), "other export unaffected");
        }
        try (RawNbdClient c = client()) {
            c.greet(3);
            c.option(7, RawNbdClient.goData("rw"));
            assertEquals(0x80000006, c.optReply().type());
        }
        f.server.addExport(new ExportSpec("rw", img, false, false, null, null));
        try (RawNbdClient c = client().go("rw", false)) {
            assertArrayEquals(Arrays.copyOfRange(original, 0, 4), c.read(3, 0, 4));
        }
    }

    @Test
    void aClientThatStopsReadingDoesNotStallOthersAndCloseStillWorks() throws Exception {
        RawNbdClient slow = client().go("rw", false);
        slow.socket.setReceiveBufferSize(4096);
        // Far more reply data than the socket buffers hold: the server's writes hit EAGAIN.
        for (int i = 0; i < 64; i++) {
            slow.request(0, 0, i, 0, 1 << 20);
        }
        slow.out.flush();
        try (RawNbdClient c = client().go("rw", false)) {
            for (int i = 0; i < 20; i++) {
                assertArrayEquals(Arrays.copyOfRange(original, i * 1000, i * 1000 + 512), c.read(i, i * 1000, 512));
            }
        }
        assertTrue(f.server.removeExport("rw"), "removal returns while a client blocks its replies");
        f.close();
        assertTrue(slow.closedByServer());
        slow.close();
    }

    @Test
    void aClientThatNeverFinishesNegotiatingIsDisconnected() throws Exception {
        f.server.setHandshakeTimeout(java.time.Duration.ofMillis(200));
        try (RawNbdClient quick = client().go("rw", false); RawNbdClient stuck = client()) {
            stuck.greet(3); // and then nothing
            assertTrue(stuck.closedByServer(), "the handshake timeout closed it");
            assertArrayEquals(Arrays.copyOfRange(original, 0, 4), quick.read(1, 0, 4),
                    "a client in transmission is not affected");
        }
        assertThrows(IllegalArgumentException.class, () -> f.server.setHandshakeTimeout(java.time.Duration.ofSeconds(-1)));
    }

    @Test
    void exportSpecAndServerValidation() throws IOException {
        Path d = Files.createDirectory(dir.resolve("d"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ExportSpec("", img, false, false, null, null));
        assertTrue(e.getMessage().contains("name"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new ExportSpec("x".repeat(4097), img, false, false, null, null));
        assertTrue(e.getMessage().contains("name"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new ExportSpec("a", dir.resolve("missing"), false, false, null, null));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ExportSpec("a", d, false, false, null, null));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ExportSpec("a", null, false, false, null, null));
        assertTrue(e.getMessage().contains("file"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new ExportSpec("a", img, false, false, "d".repeat(5000), null));
        assertTrue(e.getMessage().contains("description"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> f.server.addExport(new ExportSpec("rw", img, false, false, null, null)));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        IOException busy = assertThrows(IOException.class, () -> NbdServer.start(f.ctx, "127.0.0.1", f.server.port()));
        assertTrue(busy.getMessage().contains("127.0.0.1:" + f.server.port()), busy.getMessage());
        assertTrue(busy.getMessage().contains("EADDRINUSE"), busy.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NbdServer.start(f.ctx, "127.0.0.1", 70000));
    }
}
