package org.aiolos.nbd;

import static org.aiolos.nbd.NbdFixture.image;
import static org.aiolos.nbd.NbdFixture.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.aiolos.api.IOThread;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.ContextOptions;
import org.aiolos.linux.Fds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One export served by several IOThreads: connections spread over them, writes, flushes
 * and trims stay coherent across connections on different threads (what NBD multi-conn
 * promises), real clients with several connections, and withdrawing an IOThread that
 * has connections.
 */
class NbdMultiIOThreadTest {
    private static final long SIZE = 16L << 20;

    @TempDir
    Path dir;

    /** Two or more IOThreads (engine and fd monitor as named, null = default) and one server over them all. */
    private static final class Rig implements AutoCloseable {
        final List<IOThread> threads = new ArrayList<>();
        final List<AiolosContext> contexts = new ArrayList<>();
        final NbdServer server;

        Rig(int n, String engine, String fdmon) throws IOException {
            if (engine != null) {
                NbdFixture.requireEngine(engine);
            }
            try {
                for (int i = 0; i < n; i++) {
                    IOThread io = Aiolos.newIOThread(ContextOptions.ioThreadDefaults(NbdFixture.uniqueName())
                            .withDiskEngine(engine).withFdMonitor(fdmon));
                    threads.add(io);
                    io.start();
                    contexts.add((AiolosContext) io.context());
                }
                server = NbdServer.start(contexts, "127.0.0.1", 0);
            } catch (IOException | RuntimeException e) {
                threads.forEach(IOThread::close);
                throw e;
            }
        }

        String uri(String name) {
            return "nbd://127.0.0.1:" + server.port() + "/" + name;
        }

        ServingContext lane(int i) {
            return server.servingContexts().get(i);
        }

        @Override
        public void close() {
            try {
                server.close();
            } finally {
                threads.forEach(IOThread::close);
            }
        }
    }

    private static byte[] pattern(int len, long seed) {
        byte[] b = new byte[len];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void connectionsGoToTheLeastLoadedContext() throws Exception {
        Path img = image(dir, "img", SIZE, 1);
        try (Rig r = new Rig(2, null, null)) {
            r.server.addExport(ExportSpec.of("d", img));
            try (RawNbdClient a = new RawNbdClient(r.server.port()).go("d", false);
                    RawNbdClient b = new RawNbdClient(r.server.port()).go("d", false)) {
                assertEquals(List.of(1, 1), open(r), "two clients, one per IOThread");
                try (RawNbdClient c = new RawNbdClient(r.server.port()).go("d", false)) {
                    assertEquals(3, open(r).stream().mapToInt(Integer::intValue).sum());
                    assertEquals(8, c.read(1, 0, 8).length);
                }
                // c's lane has one again; a fourth client goes to whichever has fewer, and the
                // totals stay even.
                b.disconnect();
                assertTrue(b.closedByServer());
                awaitOpen(r, 1);
                try (RawNbdClient d = new RawNbdClient(r.server.port()).go("d", false)) {
                    assertEquals(List.of(1, 1), open(r), "the new client joins the emptier IOThread");
                    assertEquals(8, d.read(2, 0, 8).length);
                    assertEquals(8, a.read(3, 0, 8).length);
                }
            }
        }
    }

    private static List<Integer> open(Rig r) {
        return r.server.servingContexts().stream().map(ServingContext::connections).toList();
    }

    /** Waits until {@code n} connections are open in all (the server learns of a close asynchronously). */
    private static void awaitOpen(Rig r, int n) throws InterruptedException {
        for (int i = 0; i < 1000 && open(r).stream().mapToInt(Integer::intValue).sum() != n; i++) {
            Thread.sleep(10);
        }
        assertEquals(n, open(r).stream().mapToInt(Integer::intValue).sum(), "open connections");
    }

    @ParameterizedTest(name = "engine {0}, direct {1}")
    @CsvSource({"threads,false", "threads,true", "io_uring,true", "native,false"})
    void writeOnOneThreadFlushOnAnotherIsSeenEverywhere(String engine, boolean direct) throws Exception {
        Path img = image(dir, "img", SIZE, 2);
        try (Rig r = new Rig(2, engine, null)) {
            r.server.addExport(new ExportSpec("d", img, false, direct, null, null));
            try (RawNbdClient a = new RawNbdClient(r.server.port()).go("d", false);
                    RawNbdClient b = new RawNbdClient(r.server.port()).go("d", false)) {
                assertEquals(List.of(1, 1), open(r), "a and b are served by different IOThreads");
                for (int round = 0; round < 20; round++) {
                    RawNbdClient writer = round % 2 == 0 ? a : b;
                    RawNbdClient other = writer == a ? b : a;
                    // unaligned on purpose in odd rounds: a read-modify-write under O_DIRECT
                    long off = (round * 65536L) + (round % 2 == 0 ? 0 : 1001);
                    byte[] data = pattern(8192 + round, round);
                    writer.write(10 + round, off, data, 0);
                    assertEquals(0, writer.simpleReply(10 + round), "write completed");
                    assertEquals(0, other.flush(100 + round), "flush on the other connection");
                    assertArrayEquals(data, other.read(200 + round, off, data.length),
                            "the other IOThread reads what this one wrote");
                }
                // a trim on one connection reads as zeros on the other
                a.request(0, 4, 300, 4 << 20, 1 << 20); // past the rounds' writes
                a.out.flush();
                assertEquals(0, a.simpleReply(300));
                assertEquals(0, b.flush(301));
                // Trim is advisory (zeros where a hole was punched, else the old data): b reads
                // whatever the file holds after a's trim, not a copy of its own.
                byte[] after = b.read(302, 4 << 20, 4096);
                byte[] inFile = Arrays.copyOfRange(Files.readAllBytes(img), 4 << 20, (4 << 20) + 4096);
                assertArrayEquals(inFile, after, "b reads what the file holds");
            }
        }
        // What the clients saw is what the file holds, read by a third party.
        byte[] file = Files.readAllBytes(img);
        for (int round = 0; round < 20; round++) {
            long off = (round * 65536L) + (round % 2 == 0 ? 0 : 1001);
            byte[] data = pattern(8192 + round, round);
            assertArrayEquals(data, Arrays.copyOfRange(file, (int) off, (int) off + data.length), "round " + round);
        }
    }

    @ParameterizedTest(name = "engine {0}, direct {1}")
    @CsvSource({"io_uring,true", "threads,false"})
    void fioAndNbdcopyWithFourConnectionsOnTwoIOThreads(String engine, boolean direct) throws Exception {
        Path img = image(dir, "img", SIZE, 3);
        Path src = image(dir, "src", SIZE, 4);
        Path back = dir.resolve("back");
        try (Rig r = new Rig(2, engine, null)) {
            r.server.addExport(new ExportSpec("d", img, false, direct, null, null));
            String uri = r.uri("d");
            String fio = ok(120, "fio", "--name=mc", "--ioengine=nbd", "--uri=" + uri, "--rw=randrw", "--bs=4k",
                    "--size=2M", "--numjobs=4", "--offset_increment=2M", "--iodepth=16", "--verify=crc32c",
                    "--verify_state_save=0", "--do_verify=1", "--verify_fatal=1", "--group_reporting",
                    "--output-format=terse");
            assertFalse(fio.toLowerCase().contains("verify: bad"), fio);
            ok(60, "nbdcopy", "--connections=4", "--requests=16", src.toString(), uri);
            ok(60, "qemu-img", "compare", "-f", "raw", "-F", "raw", src.toString(), uri);
            ok(60, "nbdcopy", "--connections=4", "--requests=16", uri, back.toString());
            for (ServingContext s : r.server.servingContexts()) {
                assertTrue(s.accepted() >= 4, "each IOThread took its share of 4+4+4 connections: " + s);
            }
            assertEquals(0, r.server.exports().get(0).errors());
        }
        byte[] want = Files.readAllBytes(src);
        assertArrayEquals(want, Files.readAllBytes(img), "file -> nbd");
        assertArrayEquals(want, Files.readAllBytes(back), "nbd -> file");
    }

    @Test
    void withdrawingAnIOThreadClosesItsConnectionsAndNewOnesGoElsewhere() throws Exception {
        Path img = image(dir, "img", SIZE, 5);
        withdrawAndReturn(img); // the first run loads classes (and opens their jars)
        int fdsBefore = Fds.openFdCount();
        withdrawAndReturn(img);
        assertEquals(fdsBefore, Fds.openFdCount(), "no descriptor left behind");
    }

    private void withdrawAndReturn(Path img) throws Exception {
        try (Rig r = new Rig(2, null, null)) {
            r.server.addExport(new ExportSpec("d", img, false, false, null, "threads"));
            try (RawNbdClient a = new RawNbdClient(r.server.port()).go("d", false);
                    RawNbdClient b = new RawNbdClient(r.server.port()).go("d", false)) {
                assertEquals(List.of(1, 1), open(r));
                byte[] data = pattern(4096, 9);
                b.write(1, 0, data, 0);
                assertEquals(0, b.simpleReply(1)); // b's IOThread opened the export's own engine there
                assertEquals(1, r.server.removeContext(r.contexts.get(1)), "one connection stopped");
                assertTrue(b.closedByServer(), "b's connection closed");
                assertEquals(1, r.server.servingContexts().size());
                assertEquals(-1, r.server.removeContext(r.contexts.get(1)), "withdrawn already");
                assertArrayEquals(data, a.read(2, 0, 4096), "a still served");
                try (RawNbdClient c = new RawNbdClient(r.server.port()).go("d", false)) {
                    assertEquals(List.of(2), open(r), "c lands on the remaining IOThread");
                    assertArrayEquals(data, c.read(3, 0, 4096));
                }
                // and it can come back
                assertTrue(r.server.addContext(r.contexts.get(1)));
                assertFalse(r.server.addContext(r.contexts.get(1)));
                try (RawNbdClient d = new RawNbdClient(r.server.port()).go("d", false)) {
                    assertEquals(1, r.lane(1).connections(), "d on the returned IOThread");
                    assertArrayEquals(data, d.read(4, 0, 4096));
                }
            }
            IllegalArgumentException home = assertThrows(IllegalArgumentException.class,
                    () -> r.server.removeContext(r.contexts.get(0)));
            assertTrue(home.getMessage().contains("listens"), home.getMessage());
        }
    }

    @Test
    void badContextListsAreRefused() throws Exception {
        IOThread io = Aiolos.newIOThread(NbdFixture.uniqueName());
        io.start();
        try {
            AiolosContext ctx = (AiolosContext) io.context();
            assertThrows(IllegalArgumentException.class, () -> NbdServer.start(List.of(), "127.0.0.1", 0));
            IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                    () -> NbdServer.start(List.of(ctx, ctx), "127.0.0.1", 0));
            assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
        } finally {
            io.close();
        }
    }
}
