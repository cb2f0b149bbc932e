package org.aiolos.nbd;

import static org.aiolos.nbd.NbdFixture.image;
import static org.aiolos.nbd.NbdFixture.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.IOThread;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.ContextOptions;
import org.aiolos.linux.Fds;
import org.aiolos.linux.UnixSockets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unix domain socket listeners: file mode, stale files, real clients with and without TLS, nothing left behind. */
class NbdUnixSocketTest {
    private static final long SIZE = 8L << 20;

    @TempDir
    Path dir;

    private IOThread io() {
        IOThread io = Aiolos.newIOThread(ContextOptions.ioThreadDefaults(NbdFixture.uniqueName()));
        io.start();
        return io;
    }

    private static String uri(String scheme, String export, Path socket) {
        return scheme + ":///" + export + "?socket=" + socket;
    }

    @Test
    void realClientsOverAUnixSocketWithItsMode() throws Exception {
        Path img = image(dir, "img", SIZE, 1);
        Path copy = dir.resolve("copy.raw");
        Path sock = dir.resolve("nbd.sock");
        // Counted around the IOThread too: its disk engine opens at the first request and stays
        // with the context (an io_uring ring of its own when the monitor is not io_uring).
        int fdsBefore = Fds.openFdCount();
        IOThread io = io();
        try {
            try (NbdServer s = NbdServer.startUnix((AiolosContext) io.context(), sock, 0660, TlsSettings.DISABLED)) {
                s.addExport(ExportSpec.of("disk", img));
                assertEquals(sock.toAbsolutePath(), s.socketPath());
                assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
                String uri = uri("nbd+unix", "disk", sock);
                String info = ok(30, "qemu-img", "info", "--output=json", uri);
                assertTrue(info.contains("\"virtual-size\": " + SIZE), info);
                String out = ok(60, "qemu-io", "-f", "raw", "-c", "write -P 0x3c 1M 1M", "-c", "read -P 0x3c 1M 1M",
                        "-c", "write -P 0x4d 12345 999", "-c", "read -P 0x4d 12345 999", uri);
                assertFalse(out.contains("failed"), out);
                assertTrue(ok(30, "nbdinfo", uri).contains("export-size: " + SIZE));
                ok(60, "nbdcopy", uri, copy.toString());
                assertArrayEquals(Files.readAllBytes(img), Files.readAllBytes(copy));
                String fio = ok(120, "fio", "--name=unix", "--ioengine=nbd", "--uri=" + uri, "--rw=randrw",
                        "--bs=4k", "--size=4M", "--iodepth=16", "--verify=crc32c", "--verify_state_save=0",
                        "--do_verify=1", "--verify_fatal=1", "--output-format=terse");
                assertFalse(fio.toLowerCase().contains("verify: bad"), fio);
            }
            assertFalse(Files.exists(sock), "close removes the socket file");
        } finally {
            io.close();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Fds.openFdCount() != fdsBefore && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(fdsBefore, Fds.openFdCount(), "open fds before/after");
    }

    @Test
    void tlsOverAUnixSocket() throws Exception {
        TestPki pki = new TestPki(Files.createDirectories(dir.resolve("pki")));
        Path img = image(dir, "img", SIZE, 2);
        Path sock = dir.resolve("tls.sock");
        IOThread io = io();
        try (NbdServer s = NbdServer.startUnix((AiolosContext) io.context(), sock, 0600,
                TlsSettings.of(TlsSettings.Mode.REQUIRE, pki.server))) {
            s.setHandshakeTimeout(java.time.Duration.ofMinutes(1)); // a cold JVM's first TLS handshake, under load
            s.addExport(ExportSpec.of("disk", img));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
            // libnbd checks the server certificate against "localhost" on a Unix socket.
            String info = ok(30, "nbdinfo", uri("nbds+unix", "disk", sock) + "&tls-certificates="
                    + pki.anonymousClient);
            assertTrue(info.contains("export-size: " + SIZE), info);
            NbdFixture.Result plain = NbdFixture.run(30, "nbdinfo", uri("nbd+unix", "disk", sock));
            assertTrue(plain.exit() != 0, plain.output());
            String creds = "tls-creds-x509,id=tls0,endpoint=client,dir=" + pki.anonymousClient;
            String opts = "driver=nbd,server.type=unix,server.path=" + sock + ",export=disk,tls-creds=tls0,"
                    + "tls-hostname=localhost";
            String q = ok(30, "qemu-img", "info", "--output=json", "--object", creds, "--image-opts", opts);
            assertTrue(q.contains("\"virtual-size\": " + SIZE), q);
        } finally {
            io.close();
        }
    }

    @Test
    void staleSocketsAreReplacedAndOtherFilesRefused() throws Exception {
        Path sock = dir.resolve("again.sock");
        Path regular = Files.writeString(dir.resolve("not-a-socket"), "precious");
        IOThread io = io();
        try {
            AiolosContext ctx = (AiolosContext) io.context();
            // A file left behind as a crashed server leaves it: nobody listens; replaced.
            Fds.close(UnixSockets.listen(sock, 0600, 1));
            assertTrue(Files.exists(sock));
            try (NbdServer second = NbdServer.startUnix(ctx, sock, 0600, TlsSettings.DISABLED)) {
                second.addExport(ExportSpec.of("disk", image(dir, "img", SIZE, 4)));
                assertTrue(ok(30, "nbdinfo", uri("nbd+unix", "disk", sock)).contains("export-size: " + SIZE));
            }
            assertFalse(Files.exists(sock), "removed on close");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> NbdServer.startUnix(ctx, regular, 0600, TlsSettings.DISABLED));
            assertTrue(e.getMessage().contains("is not a socket"), e.getMessage());
            assertEquals("precious", Files.readString(regular));
            e = assertThrows(IllegalArgumentException.class,
                    () -> NbdServer.startUnix(ctx, dir.resolve("x".repeat(120)), 0600, TlsSettings.DISABLED));
            assertTrue(e.getMessage().contains("1..107 bytes"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> NbdServer.startUnix(ctx, dir.resolve("m.sock"), 01777, TlsSettings.DISABLED));
            assertTrue(e.getMessage().contains("0..0777"), e.getMessage());
        } finally {
            io.close();
        }
    }

    @Test
    void aSocketAServerListensOnIsNeitherTakenNorRemovedByAnother() throws Exception {
        Path img = image(dir, "img", SIZE, 3);
        Path sock = dir.resolve("live.sock");
        IOThread io = io();
        try {
            AiolosContext ctx = (AiolosContext) io.context();
            NbdServer first = NbdServer.startUnix(ctx, sock, 0600, TlsSettings.DISABLED);
            try {
                first.addExport(ExportSpec.of("disk", img));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> NbdServer.startUnix(ctx, sock, 0600, TlsSettings.DISABLED));
                assertTrue(e.getMessage().contains("is the socket of a server that is running"), e.getMessage());
                assertTrue(ok(30, "nbdinfo", uri("nbd+unix", "disk", sock)).contains("export-size: " + SIZE));

                // Someone removes the live file and starts another server there: closing the
                // first leaves the newcomer's file (another inode) alone.
                Files.delete(sock);
                try (NbdServer second = NbdServer.startUnix(ctx, sock, 0600, TlsSettings.DISABLED)) {
                    second.addExport(ExportSpec.of("other", img));
                    first.close();
                    assertTrue(Files.exists(sock), "the second server's socket file stays");
                    assertTrue(ok(30, "nbdinfo", uri("nbd+unix", "other", sock)).contains("export-size: " + SIZE));
                }
                assertFalse(Files.exists(sock), "the second server removed its own file");
            } finally {
                first.close(); // closed already unless an assertion failed first
            }
        } finally {
            io.close();
        }
    }
}
