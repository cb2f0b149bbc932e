package org.aiolos.nbd;

import static org.aiolos.nbd.NbdFixture.image;
import static org.aiolos.nbd.NbdFixture.ok;
import static org.aiolos.nbd.NbdFixture.qemuIo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Real NBD clients (qemu-img, qemu-io, nbdinfo, nbdcopy, fio) against the server, per engine and O_DIRECT. */
class NbdClientToolsTest {
    private static final long SIZE = 16L << 20;

    @TempDir
    Path dir;

    private static void assertQemuIoOk(String out) {
        assertFalse(out.contains("Pattern verification failed"), out);
        assertFalse(out.contains("failed"), out);
    }

    @ParameterizedTest(name = "engine {0}, direct {1}, fdmon {2}")
    @CsvSource({"threads,false,poll", "threads,true,epoll", "native,false,io_uring", "native,true,poll",
            "io_uring,false,epoll", "io_uring,true,io_uring"})
    void qemuIoPatternsAndFio(String engine, boolean direct, String fdmon) throws Exception {
        // An odd size: with O_DIRECT the last partial block goes through the buffered tail descriptor.
        long size = SIZE + 1000;
        Path img = image(dir, "img", size, 1);
        try (NbdFixture f = new NbdFixture(engine, fdmon)) {
            assertEquals(fdmon, f.ctx.fdMonitorName());
            f.server.addExport(new ExportSpec("disk", img, false, direct, null, null));
            String uri = f.uri("disk");
            String out = ok(60, qemuIo(uri,
                    "write -P 0xa5 4k 1M", "read -P 0xa5 4k 1M",
                    "write -P 0x11 1001 7777", "read -P 0x11 1001 7777", "read -P 0xa5 8778 100",
                    "write -f -P 0x22 3M 12345", "read -P 0x22 3M 12345",
                    "flush",
                    "discard 5M 1M", "read -P 0 5M 1M",
                    "write -z 7M 65537", "read -P 0 7M 65537",
                    "write -z -u 9M 1M", "read -P 0 9M 1M",
                    "write -P 0x33 " + (size - 777) + " 777", "read -P 0x33 " + (size - 777) + " 777")
                    .toArray(String[]::new));
            assertQemuIoOk(out);
            assertEquals(size, Files.size(img), "image size");

            String fio = ok(60, "fio", "--name=verify", "--ioengine=nbd", "--uri=" + uri, "--rw=randrw",
                    "--bs=4k", "--size=4M", "--iodepth=32", "--verify=crc32c", "--verify_state_save=0", "--do_verify=1",
                    "--verify_fatal=1", "--output-format=terse");
            assertFalse(fio.toLowerCase().contains("verify: bad"), fio);
            assertEquals(size, Files.size(img), "image size");
            ExportStats st = f.server.exports().get(0);
            assertEquals(engine, st.engine());
            assertTrue(st.bytesWritten() > (1 << 20), st.toString());
            assertEquals(0, st.errors(), st.toString());
        }
    }

    @ParameterizedTest(name = "engine {0}, direct {1}")
    @CsvSource({"threads,false", "io_uring,true"})
    void qemuImgConvertAndCompare(String engine, boolean direct) throws Exception {
        Path src = image(dir, "src", SIZE, 2);
        Path target = dir.resolve("target");
        Files.write(target, new byte[(int) SIZE]);
        Path back = dir.resolve("back.raw");
        try (NbdFixture f = new NbdFixture(engine, null)) {
            f.server.addExport(new ExportSpec("t", target, false, direct, "conversion target", null));
            String uri = f.uri("t");
            String info = ok(30, "qemu-img", "info", "--output=json", uri);
            assertTrue(info.contains("\"virtual-size\": " + SIZE), info);
            ok(60, "qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", src.toString(), uri);
            ok(60, "qemu-img", "compare", "-f", "raw", "-F", "raw", src.toString(), uri);
            ok(60, "qemu-img", "convert", "-f", "raw", "-O", "raw", uri, back.toString());
        }
        assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(back), "nbd -> file copy");
        assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(target), "file -> nbd copy");
    }

    @ParameterizedTest(name = "engine {0}, direct {1}")
    @CsvSource({"native,true", "threads,false"})
    void nbdcopyBothWaysWithFourConnections(String engine, boolean direct) throws Exception {
        Path src = image(dir, "src", SIZE, 3);
        Path target = dir.resolve("target");
        Files.write(target, new byte[(int) SIZE]);
        Path back = dir.resolve("back");
        try (NbdFixture f = new NbdFixture(engine, null)) {
            f.server.addExport(new ExportSpec("t", target, false, direct, null, null));
            String uri = f.uri("t");
            ok(60, "nbdcopy", "--connections=4", "--requests=16", src.toString(), uri);
            ok(60, "nbdcopy", "--connections=4", "--requests=16", uri, back.toString());
        }
        byte[] want = Files.readAllBytes(src);
        assertArrayEquals(want, Files.readAllBytes(target), "file -> nbd");
        assertArrayEquals(want, Files.readAllBytes(back), "nbd -> file");
    }

    @Test
    void nbdinfoListJsonAndDescription() throws Exception {
        Path a = image(dir, "a", 1 << 20, 4);
        Path b = image(dir, "b", 3 << 20, 5);
        try (NbdFixture f = new NbdFixture()) {
            f.server.addExport(new ExportSpec("alpha", a, false, false, "the first export", null));
            f.server.addExport(new ExportSpec("beta", b, true, false, null, null));
            String list = ok(30, "nbdinfo", "--list", "nbd://127.0.0.1:" + f.server.port());
            assertTrue(list.contains("export=\"alpha\""), list);
            assertTrue(list.contains("export=\"beta\""), list);
            assertTrue(list.contains("the first export"), list);
            String json = ok(30, "nbdinfo", "--json", f.uri("beta"));
            assertTrue(json.replace(" ", "").contains("\"export-size\":" + (3 << 20)), json);
            assertTrue(json.replace(" ", "").contains("\"is_read_only\":true"), json);
            String plain = ok(30, "nbdinfo", f.uri("alpha"));
            assertTrue(plain.contains("description: the first export"), plain);
            assertTrue(plain.contains("can_multi_conn: true"), plain);
            assertTrue(plain.contains("block_size_maximum: 33554432"), plain);
            // qemu sees NBD_FLAG_READ_ONLY and refuses to open the export for writing.
            NbdFixture.Result w = NbdFixture.run(30, qemuIo(f.uri("beta"), "write -P 1 0 4k").toArray(String[]::new));
            assertTrue(w.output().contains("Permission denied"), w.output());
            assertQemuIoOk(ok(30, "qemu-io", "-r", "-f", "raw", "-c", "read 0 3M", f.uri("beta")));
        }
    }

    @Test
    void blockStatusLetsClientsSeeHoles() throws Exception {
        Path sparse = dir.resolve("sparse");
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(sparse.toFile(), "rw")) {
            raf.setLength(SIZE);
            byte[] data = new byte[1 << 20];
            new java.util.Random(10).nextBytes(data);
            raf.seek(1 << 20);
            raf.write(data);
            raf.seek(8 << 20);
            raf.write(data, 0, 512 << 10);
        }
        Path copy = dir.resolve("copy");
        try (NbdFixture f = new NbdFixture("io_uring", null)) {
            f.server.addExport(new ExportSpec("s", sparse, true, true, null, null));
            String uri = f.uri("s");
            String map = ok(30, "nbdinfo", "--map", uri);
            assertTrue(map.matches("(?s)\\s*0\\s+1048576\\s+3\\s+hole,zero\\s+1048576\\s+1048576\\s+0\\s+data\\s+"
                    + "2097152\\s+6291456\\s+3\\s+hole,zero\\s+8388608\\s+524288\\s+0\\s+data\\s+"
                    + "8912896\\s+7864320\\s+3\\s+hole,zero\\s*"), map);
            String qmap = ok(30, "qemu-img", "map", "--output=json", uri);
            assertEquals(2, qmap.split("\"data\": true").length - 1, qmap);
            ok(60, "qemu-img", "convert", "-f", "raw", "-O", "raw", uri, copy.toString());
        }
        assertArrayEquals(Files.readAllBytes(sparse), Files.readAllBytes(copy));
        assertTrue(Files.size(copy) == SIZE, "copy size");
    }

    @Test
    void twoQemuIoClientsAndDeepFioAtOnce() throws Exception {
        Path img = image(dir, "img", SIZE, 6);
        try (NbdFixture f = new NbdFixture("io_uring", null);
                ExecutorService pool = Executors.newFixedThreadPool(3)) {
            f.server.addExport(new ExportSpec("d", img, false, false, null, null));
            String uri = f.uri("d");
            Callable<String> first = () -> ok(60, qemuIo(uri, "write -P 0x41 0 2M", "read -P 0x41 0 2M",
                    "aio_write -P 0x42 2M 512k", "aio_flush", "read -P 0x42 2M 512k").toArray(String[]::new));
            Callable<String> second = () -> ok(60, qemuIo(uri, "write -P 0x51 4M 2M", "read -P 0x51 4M 2M")
                    .toArray(String[]::new));
            Callable<String> fio = () -> ok(60, "fio", "--name=deep", "--ioengine=nbd", "--uri=" + uri,
                    "--rw=randrw", "--bs=4k", "--offset=8M", "--size=4M", "--iodepth=32", "--numjobs=1",
                    "--verify=crc32c", "--verify_state_save=0", "--output-format=terse");
            Future<String> a = pool.submit(first);
            Future<String> b = pool.submit(second);
            Future<String> c = pool.submit(fio);
            assertQemuIoOk(a.get());
            assertQemuIoOk(b.get());
            c.get();
            byte[] data = Files.readAllBytes(img);
            byte[] w41 = new byte[2 << 20];
            Arrays.fill(w41, (byte) 0x41);
            assertArrayEquals(w41, Arrays.copyOfRange(data, 0, 2 << 20));
            byte[] w51 = new byte[2 << 20];
            Arrays.fill(w51, (byte) 0x51);
            assertArrayEquals(w51, Arrays.copyOfRange(data, 4 << 20, 6 << 20));
        }
    }

    @Test
    void contextEngineSwapUnderLoadLosesNothing() throws Exception {
        Path img = image(dir, "img", SIZE, 11);
        try (NbdFixture f = new NbdFixture("threads", null); ExecutorService pool = Executors.newSingleThreadExecutor()) {
            f.server.addExport(new ExportSpec("d", img, false, true, null, null));
            String uri = f.uri("d");
            Future<String> fio = pool.submit(() -> ok(60, "fio", "--name=swap", "--ioengine=nbd", "--uri=" + uri,
                    "--rw=randrw", "--bs=4k", "--size=8M", "--iodepth=32", "--verify=crc32c", "--verify_state_save=0", "--verify_fatal=1",
                    "--output-format=terse"));
            String[] engines = {"native", "io_uring", "threads"};
            long next = 500;
            for (String e : engines) {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (f.server.exports().get(0).requests() < next && !fio.isDone() && System.nanoTime() < deadline) {
                    Thread.sleep(2);
                }
                f.ctx.useDiskEngine(e);
                next += 500;
            }
            fio.get();
            assertEquals(0, f.server.exports().get(0).errors());
            assertEquals("threads", f.server.exports().get(0).engine(), "stats follow the context's engine");
        }
    }

    /**
     * The io_uring engine on the io_uring monitor's ring: the monitor and the engine are
     * swapped in turn under a verifying fio, the monitor also with requests on its lent ring
     * (its close hands them over); nothing is lost.
     */
    @Test
    void monitorAndEngineSwapsOnTheSharedRingLoseNothing() throws Exception {
        Path img = image(dir, "img", SIZE, 12);
        try (NbdFixture f = new NbdFixture("io_uring", "io_uring");
                ExecutorService pool = Executors.newSingleThreadExecutor()) {
            f.server.addExport(new ExportSpec("d", img, false, true, null, null));
            String uri = f.uri("d");
            Future<String> fio = pool.submit(() -> ok(90, "fio", "--name=swap", "--ioengine=nbd", "--uri=" + uri,
                    "--rw=randrw", "--bs=4k", "--size=8M", "--iodepth=32", "--verify=crc32c", "--verify_state_save=0",
                    "--verify_fatal=1", "--output-format=terse"));
            String[][] steps = {{"fdmon", "epoll"}, {"fdmon", "io_uring"}, {"engine", "threads"}, {"fdmon", "poll"},
                {"engine", "io_uring"}, {"fdmon", "io_uring"}, {"engine", "native"}, {"engine", "io_uring"},
                {"fdmon", "epoll"}, {"fdmon", "io_uring"}};
            long next = 300;
            for (String[] step : steps) {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (f.server.exports().get(0).requests() < next && !fio.isDone() && System.nanoTime() < deadline) {
                    Thread.sleep(2);
                }
                if (step[0].equals("fdmon")) {
                    f.ctx.useFdMonitor(step[1]);
                } else {
                    f.ctx.useDiskEngine(step[1]);
                }
                next += 300;
            }
            String out = fio.get();
            assertFalse(out.toLowerCase().contains("verify: bad"), out);
            assertEquals(0, f.server.exports().get(0).errors());
            assertEquals("io_uring", f.ctx.fdMonitorName());
            assertEquals("io_uring", f.server.exports().get(0).engine());
        }
    }

    @Test
    void closingUnderLoadEndsEveryConnection() throws Exception {
        Path img = image(dir, "img", SIZE, 9);
        try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
            NbdFixture f = new NbdFixture("native", null);
            try {
                f.server.addExport(new ExportSpec("d", img, false, true, null, null));
                String uri = f.uri("d");
                Future<NbdFixture.Result> fio = pool.submit(() -> NbdFixture.run(60, "fio", "--name=load",
                        "--ioengine=nbd", "--uri=" + uri, "--rw=randrw", "--bs=64k", "--size=16M",
                        "--iodepth=32", "--time_based", "--runtime=30", "--output-format=terse"));
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (f.server.exports().get(0).requests() < 2000 && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertTrue(f.server.exports().get(0).requests() >= 2000, "fio got going");
                f.server.close();
                assertEquals(0, f.server.connectionCount());
                NbdFixture.Result r = fio.get();
                assertTrue(r.exit() != 0 || r.output().contains("err="), "fio noticed: " + r.output());
            } finally {
                f.close();
            }
        }
        assertEquals(SIZE, Files.size(img));
    }
}
