package org.aiolos.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NBD server's request memory is bounded by bytes, not only by request count: a
 * client that pipelines 16 reads of 8 MiB (128 MiB of payload, within QEMU's 16-request
 * bound) and reads no reply until it has sent them all gets at most 64 MiB of buffers
 * held for it (the per-connection payload budget); two such clients on one export at most
 * 128 MiB (the per-export budget, 256 MiB, is not reached; each connection's is). After
 * they leave nothing is held and at most the 32 MiB cache stays for reuse. Before the
 * budget the first case held all 128 MiB at once.
 */
class NbdMemoryBoundTest {
    private static final long MIB = 1 << 20;
    private static final int READ = 8 << 20;

    @TempDir
    Path dir;

    @Test
    void payloadInFlightIsBoundedPerConnectionAndTheCacheAfterwards() throws Exception {
        Path img = dir.resolve("sparse.img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(256 * MIB);
        }
        try (NbdFixture f = new NbdFixture()) {
            f.server.addExport(new ExportSpec("m", img, true, false, "memory bound", null));
            pipelinedReads(f, 1);
            NbdServer.BufferMemory one = f.server.bufferMemory();
            // Buffers come in size classes a little above the payload (an 8 MiB read takes a
            // buffer of 8 MiB + 64 KiB), hence 2 MiB of slack over the 64 MiB of payload.
            assertTrue(one.peakLiveBytes() <= 66 * MIB, "one connection held " + one.peakLiveBytes()
                    + " bytes of payload buffers at once; its budget is 64 MiB of payload");
            assertTrue(one.peakLiveBytes() >= 2L * READ, "the reads did overlap: " + one.peakLiveBytes() / MIB);
            pipelinedReads(f, 2);
            NbdServer.BufferMemory two = f.server.bufferMemory();
            assertTrue(two.peakLiveBytes() <= 132 * MIB, "two connections held " + two.peakLiveBytes()
                    + " bytes at once; 64 MiB of payload each");
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (f.server.connectionCount() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            NbdServer.BufferMemory after = f.server.bufferMemory();
            assertEquals(0, after.liveBytes(), "no buffer is held once the clients are gone");
            assertEquals(32 * MIB, after.maxCachedBytes());
            assertTrue(after.cachedBytes() <= after.maxCachedBytes(), "cache " + after.cachedBytes());
        }
    }

    /** {@code clients} connections each send 16 reads of 8 MiB, then read the 16 replies. */
    private static void pipelinedReads(NbdFixture f, int clients) throws Exception {
        RawNbdClient[] c = new RawNbdClient[clients];
        for (int i = 0; i < clients; i++) {
            c[i] = new RawNbdClient(f.server.port()).go("m", false);
            c[i].socket.setSoTimeout(60_000);
        }
        // Every request is sent before any reply is read: 16 headers fit the socket at once.
        for (RawNbdClient client : c) {
            for (int r = 0; r < 16; r++) {
                client.request(0, 0, r, (long) r * READ, READ);
            }
            client.out.flush();
        }
        byte[] data = new byte[READ];
        for (RawNbdClient client : c) {
            for (int r = 0; r < 16; r++) {
                assertEquals(0, client.in.readInt() == RawNbdClient.SIMPLE_MAGIC ? client.in.readInt() : -1,
                        "reply " + r);
                long cookie = client.in.readLong();
                assertTrue(cookie >= 0 && cookie < 16, "cookie " + cookie);
                client.in.readFully(data);
            }
            client.disconnect();
            client.close();
        }
    }
}
