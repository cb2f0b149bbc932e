package org.aiolos.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.aiolos.linux.Fds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The export's payload budget (256 MiB over all connections) against clients that take a
 * share and then stop: WRITEs whose payload never comes, READs whose replies are never
 * read. Without the stall rule they held the budget as long as their sockets stayed open
 * and every other client of the export waited with them; with it those in a waiting
 * client's way are disconnected after the stall period (1 s here, 10 s by default), and a
 * client that is slow but keeps moving bytes keeps its share.
 */
class NbdBudgetStallTest {
    private static final long MIB = 1 << 20;
    private static final int LARGE = 32 << 20;
    private static final Duration STALL = Duration.ofSeconds(1);
    /** Room for a loaded machine: the victim is served within the stall period plus this. */
    private static final long MARGIN_MS = 5000;

    @TempDir
    Path dir;

    private NbdFixture fixture() throws IOException {
        Path img = dir.resolve("big.img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(64 * MIB);
        }
        NbdFixture f = new NbdFixture();
        f.server.addExport(new ExportSpec("big", img, false, false, null, null));
        f.server.setStallPeriod(STALL);
        return f;
    }

    @Test
    void stalledClientsAreDisconnectedAndTheExportServesTheOthers() throws Exception {
        try (NbdFixture f = fixture(); LogCapture log = new LogCapture()) {
            int fdsBefore = fdsAfterWarmUp(f);
            // Eight WRITEs of 32 MiB fill the export's budget; one payload byte each, then nothing.
            stallsGiveWay(f, log, largeWrites(f, 1), LARGE, 1);

            // Four clients with two READs of 32 MiB each that never read a reply: the same.
            List<RawNbdClient> readers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                RawNbdClient c = new RawNbdClient(f.server.port());
                c.socket.setReceiveBufferSize(4096);
                c.go("big", false);
                c.request(0, 0, 1, 0, LARGE);
                c.request(0, 0, 2, LARGE, LARGE);
                c.out.flush();
                readers.add(c);
            }
            stallsGiveWay(f, log, readers, 2L * LARGE, 2);
            assertFdsBack(fdsBefore);
        }
    }

    /** Eight clients, each sending a 32 MiB WRITE (cookie: its index) and the first {@code sent} bytes of its payload. */
    private static List<RawNbdClient> largeWrites(NbdFixture f, int sent) throws IOException {
        List<RawNbdClient> writers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            RawNbdClient c = new RawNbdClient(f.server.port()).go("big", false);
            c.request(0, 1, i, (i % 2) * (long) LARGE, LARGE);
            c.out.write(new byte[sent]);
            c.out.flush();
            writers.add(c);
        }
        return writers;
    }

    /**
     * {@code stalled} fill the budget, {@code share} bytes each, and then make no progress.
     * A new client's 4 KiB READ is answered within the stall period plus the margin (without
     * the rule it waited until its own socket timeout, four margins): as many of the stalled
     * as stood in its way were disconnected, each with one warning, and their budget given
     * back; the rest hold theirs (nobody waits for it) until the test closes them.
     */
    private static void stallsGiveWay(NbdFixture f, LogCapture log, List<RawNbdClient> stalled, long share,
            long cookie) throws Exception {
        awaitTrue(() -> f.server.payloadInFlight("big") == 256 * MIB, "the stalled clients hold the whole budget");
        int warningsBefore = stallWarnings(log).size();
        try (RawNbdClient victim = new RawNbdClient(f.server.port()).go("big", false)) {
            victim.socket.setSoTimeout((int) (STALL.toMillis() + 4 * MARGIN_MS));
            long t0 = System.nanoTime();
            assertArrayEquals(new byte[4096], victim.read(cookie, 0, 4096));
            long waitedMs = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(waitedMs <= STALL.toMillis() + MARGIN_MS, "the victim waited " + waitedMs + " ms");
            List<String> warnings = stallWarnings(log);
            int closed = warnings.size() - warningsBefore;
            assertTrue(closed >= 1, String.join("\n", log.lines()));
            String w = warnings.get(warnings.size() - 1);
            assertTrue(w.contains("on export 'big'") && w.contains(share + " bytes of the export's payload budget")
                    && w.contains("waiting for it; closing the connection"), w);
            awaitTrue(() -> f.server.connectionCount() == 1 + stalled.size() - closed,
                    "the " + closed + " disconnected clients' connections closed");
            assertEquals((stalled.size() - closed) * share, f.server.payloadInFlight("big"),
                    "the disconnected clients' budget is back, the victim's read is done");
        }
        for (RawNbdClient c : stalled) {
            c.close();
        }
        awaitTrue(() -> f.server.connectionCount() == 0, "every connection closed");
        assertEquals(0, f.server.payloadInFlight("big"), "the budget is all given back");
    }

    /**
     * A request that would fit what is left of the budget still waits when another came
     * before it and does not fit: the export's waiters are served first come, first served.
     * (Before, a release woke every waiter to race for the room, and a request that fit took
     * it at once, so a 32 MiB request could wait behind any stream of small ones.)
     */
    @Test
    void aRequestThatFitsQueuesBehindALargerOneThatCameFirst() throws Exception {
        try (NbdFixture f = fixture()) {
            f.server.setStallPeriod(Duration.ofMinutes(10)); // the holders keep their shares
            // 7 x 32 MiB + 31 MiB of WRITEs whose payloads never come: 1 MiB is left.
            List<RawNbdClient> holders = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                RawNbdClient c = new RawNbdClient(f.server.port()).go("big", false);
                c.request(0, 1, i, 0, i < 7 ? LARGE : LARGE - MIB);
                c.out.flush();
                holders.add(c);
            }
            awaitTrue(() -> f.server.payloadInFlight("big") == 255 * MIB, "the writes hold all but 1 MiB");
            try (RawNbdClient large = new RawNbdClient(f.server.port()).go("big", false);
                    RawNbdClient small = new RawNbdClient(f.server.port()).go("big", false)) {
                large.request(0, 0, 1, 0, LARGE);
                large.out.flush();
                awaitTrue(() -> f.server.payloadWaiters("big") == 1, "the 32 MiB READ waits");
                small.request(0, 0, 2, 0, 4096);
                small.out.flush();
                awaitTrue(() -> f.server.payloadWaiters("big") == 2 || answered(small),
                        "the 4 KiB READ waits or is answered");
                assertEquals(2, f.server.payloadWaiters("big"), "the 4 KiB READ queued behind the 32 MiB one");
                assertEquals(255 * MIB, f.server.payloadInFlight("big"), "nothing taken past the head");

                holders.get(0).close(); // 32 MiB back: the head, then the one behind it
                assertEquals(0, large.simpleReply(1));
                assertEquals(LARGE, large.in.readNBytes(LARGE).length);
                assertEquals(0, small.simpleReply(2));
                assertArrayEquals(new byte[4096], small.in.readNBytes(4096));
                assertEquals(0, f.server.payloadWaiters("big"));
            }
            for (RawNbdClient c : holders) {
                c.close();
            }
            awaitTrue(() -> f.server.connectionCount() == 0, "every connection closed");
            assertEquals(0, f.server.payloadInFlight("big"), "the budget is all given back");
        }
    }

    private static boolean answered(RawNbdClient c) {
        try {
            return c.in.available() > 0;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<String> stallWarnings(LogCapture log) {
        return log.lines(l -> l.startsWith("WARNING") && l.contains("no bytes read or written"));
    }

    /**
     * Clients that fill the budget but keep sending their payloads, a little at a time, are
     * not disconnected however long the other client waits: the rule is about progress,
     * not speed.
     */
    @Test
    void aSlowButSteadyClientKeepsItsShare() throws Exception {
        try (NbdFixture f = fixture(); LogCapture log = new LogCapture()) {
            int fdsBefore = fdsAfterWarmUp(f);
            List<RawNbdClient> writers = largeWrites(f, 0);
            awaitTrue(() -> f.server.payloadInFlight("big") == 256 * MIB, "the writes hold the whole budget");
            try (RawNbdClient victim = new RawNbdClient(f.server.port()).go("big", false)) {
                victim.request(0, 0, 99, 0, 4096);
                victim.out.flush();
                // Four stall periods of 16 KiB per writer every 50 ms while the victim waits.
                byte[] piece = new byte[16 << 10];
                long sent = 0;
                long end = System.nanoTime() + 4 * STALL.toNanos();
                while (System.nanoTime() < end) {
                    for (RawNbdClient c : writers) {
                        c.out.write(piece);
                        c.out.flush();
                    }
                    sent += piece.length;
                    Thread.sleep(50);
                }
                // The rest in turns of 1 MiB, so that no writer idles while another sends.
                byte[] chunk = new byte[1 << 20];
                while (sent < LARGE) {
                    int n = (int) Math.min(chunk.length, LARGE - sent);
                    for (RawNbdClient c : writers) {
                        c.out.write(chunk, 0, n);
                        c.out.flush();
                    }
                    sent += n;
                }
                for (int i = 0; i < writers.size(); i++) {
                    assertEquals(0, writers.get(i).simpleReply(i), "the slow write completes: its client was kept");
                }
                assertEquals(0, victim.simpleReply(99));
                assertArrayEquals(new byte[4096], victim.in.readNBytes(4096));
            }
            for (RawNbdClient c : writers) {
                c.close();
            }
            awaitTrue(() -> f.server.connectionCount() == 0, "every connection closed");
            assertEquals(0, f.server.payloadInFlight("big"));
            assertEquals(List.of(), log.lines(l -> l.contains("no bytes read or written")));
            assertFdsBack(fdsBefore);
        }
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(10);
        }
    }

    /** Open descriptors once a first connection has come and gone (what it opens for good, the JDK keeps). */
    private static int fdsAfterWarmUp(NbdFixture f) throws Exception {
        try (RawNbdClient warmUp = new RawNbdClient(f.server.port()).go("big", false)) {
            assertArrayEquals(new byte[512], warmUp.read(1, 0, 512));
        }
        awaitTrue(() -> f.server.connectionCount() == 0, "the warm-up connection closed");
        return Fds.openFdCount();
    }

    private static void assertFdsBack(int before) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (Fds.openFdCount() != before && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(before, Fds.openFdCount(), "open fds before/after: none leaked");
    }
}
