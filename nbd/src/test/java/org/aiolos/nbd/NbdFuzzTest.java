package org.aiolos.nbd;

import static org.aiolos.nbd.NbdFixture.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Seeded random clients: garbage, truncated and oversized messages, random options and
 * random requests. After every batch a well-behaved client must still be served, and at
 * the end the image must be unchanged outside the ranges requests were allowed to modify,
 * and keep its size.
 */
class NbdFuzzTest {
    private static final int SIZE = 256 << 10;
    private static final int CASES = 1500;
    private static final int CHECK_EVERY = 100;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "seed {0}, direct {1}")
    @CsvSource({"20261122,false", "4242,true"})
    void randomClientsNeverHurtTheServerOrTheImage(long seed, boolean direct) throws Exception {
        Path img = image(dir, "img", SIZE, seed);
        byte[] original = Files.readAllBytes(img);
        BitSet dirty = new BitSet(SIZE);
        Random rnd = new Random(seed);
        try (NbdFixture f = new NbdFixture()) {
            f.server.addExport(new ExportSpec("f", img, false, direct, "fuzz target", null));
            for (int i = 0; i < CASES; i++) {
                try (Socket s = new Socket("127.0.0.1", f.server.port())) {
                    s.setSoTimeout(2000);
                    s.setSoLinger(true, 0); // close with RST sometimes mid-stream: just drop
                    runCase(rnd, s, dirty);
                } catch (IOException expected) {
                    // the server closed on us: that is a valid answer to garbage
                }
                if (i % CHECK_EVERY == CHECK_EVERY - 1) {
                    checkServed(f, original, dirty, "after case " + i);
                }
            }
            checkServed(f, original, dirty, "at the end");
            // Every fuzzed connection ends: the server closes each socket it accepted.
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (f.server.connectionCount() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(0, f.server.connectionCount(), "connections left open");
        }
        assertEquals(SIZE, Files.size(img), "image size");
        byte[] now = Files.readAllBytes(img);
        for (int b = dirty.nextClearBit(0); b < SIZE; b = dirty.nextClearBit(b + 1)) {
            if (now[b] != original[b]) {
                fail("byte " + b + " changed although no request covered it");
            }
        }
    }

    /** A fresh, well-behaved client reads the whole image; bytes no request could touch are as they were. */
    private static void checkServed(NbdFixture f, byte[] original, BitSet dirty, String when) throws IOException {
        try (RawNbdClient c = new RawNbdClient(f.server.port()).go("f", false)) {
            assertEquals(SIZE, c.size, when);
            byte[] all = c.read(1, 0, SIZE);
            for (int b = dirty.nextClearBit(0); b < SIZE; b = dirty.nextClearBit(b + 1)) {
                if (all[b] != original[b]) {
                    fail(when + ": byte " + b + " changed although no request covered it");
                }
            }
            c.disconnect();
        }
    }

    private static void runCase(Random rnd, Socket s, BitSet dirty) throws IOException {
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        switch (rnd.nextInt(6)) {
            case 0 -> garbage(rnd, out, 1 + rnd.nextInt(300));
            case 1 -> {
                handshake(rnd, s, out);
                randomOptions(rnd, out);
            }
            case 2, 3 -> {
                handshake(rnd, s, out);
                if (go(out, rnd)) {
                    randomRequests(rnd, out, dirty);
                }
            }
            case 4 -> {
                handshake(rnd, s, out);
                if (go(out, rnd)) {
                    byte[] partial = new byte[1 + rnd.nextInt(27)];
                    rnd.nextBytes(partial);
                    partial[0] = 0x25;
                    out.write(partial);
                }
            }
            default -> {
                handshake(rnd, s, out);
                if (go(out, rnd)) {
                    garbage(rnd, out, 1 + rnd.nextInt(200));
                }
            }
        }
        out.flush();
        if (rnd.nextBoolean()) {
            // Read a little of whatever came back before leaving.
            try {
                s.setSoTimeout(20);
                s.getInputStream().read(new byte[64]);
            } catch (IOException ignored) {
                // timeout or reset
            }
        }
    }

    private static void garbage(Random rnd, OutputStream out, int n) throws IOException {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        out.write(b);
    }

    private static void handshake(Random rnd, Socket s, DataOutputStream out) throws IOException {
        s.getInputStream().readNBytes(18);
        out.writeInt(rnd.nextInt(10) == 0 ? rnd.nextInt() : 1 + 2 * rnd.nextInt(2));
    }

    /** Sends NBD_OPT_GO for "f" (or another name); the replies are left unread in the socket. */
    private static boolean go(DataOutputStream out, Random rnd) throws IOException {
        if (rnd.nextInt(4) == 0) {
            out.writeLong(RawNbdClient.IHAVEOPT);
            out.writeInt(8);
            out.writeInt(0);
        }
        byte[] data = RawNbdClient.goData(rnd.nextInt(20) == 0 ? "g" : "f", 3);
        out.writeLong(RawNbdClient.IHAVEOPT);
        out.writeInt(7);
        out.writeInt(data.length);
        out.write(data);
        return true;
    }

    private static void randomOptions(Random rnd, DataOutputStream out) throws IOException {
        int n = 1 + rnd.nextInt(6);
        for (int i = 0; i < n; i++) {
            out.writeLong(rnd.nextInt(30) == 0 ? rnd.nextLong() : RawNbdClient.IHAVEOPT);
            int option = rnd.nextInt(3) == 0 ? rnd.nextInt() : rnd.nextInt(12);
            out.writeInt(option);
            int claimed = switch (rnd.nextInt(5)) {
                case 0 -> rnd.nextInt();
                case 1 -> 65536 + rnd.nextInt(1000);
                default -> rnd.nextInt(64);
            };
            out.writeInt(claimed);
            int send = claimed >= 0 && claimed < 64 ? (rnd.nextInt(8) == 0 ? rnd.nextInt(claimed + 1) : claimed)
                    : rnd.nextInt(100);
            garbage(rnd, out, send);
            if (send < claimed) {
                return; // truncated: nothing more can follow
            }
        }
    }

    private static void randomRequests(Random rnd, DataOutputStream out, BitSet dirty) throws IOException {
        int n = 1 + rnd.nextInt(40);
        for (int i = 0; i < n; i++) {
            int type = rnd.nextInt(10) == 0 ? rnd.nextInt(65536) : rnd.nextInt(8);
            int flags = rnd.nextInt(4) == 0 ? rnd.nextInt(65536) : rnd.nextInt(2);
            long offset = switch (rnd.nextInt(5)) {
                case 0 -> rnd.nextLong();
                case 1 -> SIZE - rnd.nextInt(5000);
                default -> rnd.nextInt(SIZE);
            };
            long length = switch (rnd.nextInt(6)) {
                case 0 -> Integer.toUnsignedLong(rnd.nextInt());
                case 1 -> 0;
                case 2 -> (32 << 20) + rnd.nextInt(3);
                default -> rnd.nextInt(9000);
            };
            out.writeInt(rnd.nextInt(50) == 0 ? rnd.nextInt() : RawNbdClient.REQUEST_MAGIC);
            out.writeShort(flags);
            out.writeShort(type);
            out.writeLong(rnd.nextLong());
            out.writeLong(offset);
            out.writeInt((int) length);
            if (type == 1 || type == 4 || type == 6) {
                markDirty(dirty, offset, length);
            }
            if (type == 1) {
                if (length <= 9000) {
                    garbage(rnd, out, (int) length);
                } else {
                    garbage(rnd, out, rnd.nextInt(2000)); // a payload that never completes
                    return;
                }
            }
            if (type == 2 && rnd.nextBoolean()) {
                return;
            }
        }
    }

    private static void markDirty(BitSet dirty, long offset, long length) {
        if (offset < 0 || offset >= SIZE) {
            return;
        }
        long end = Math.min(SIZE, offset + length);
        dirty.set((int) offset, (int) end);
    }
}
