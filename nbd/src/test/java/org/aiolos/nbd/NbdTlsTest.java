package org.aiolos.nbd;

import static org.aiolos.nbd.NbdFixture.image;
import static org.aiolos.nbd.NbdFixture.ok;
import static org.aiolos.nbd.NbdFixture.qemuIo;
import static org.aiolos.nbd.NbdFixture.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import org.aiolos.linux.Fds;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NBD over TLS: STARTTLS with the JDK's SSLEngine, refusals before the upgrade, client
 * certificates and the allow-list, bad handshakes, credential reload, and real clients
 * (qemu-img, qemu-io, nbdinfo, nbdcopy, fio) with certificates openssl makes for the test.
 */
class NbdTlsTest {
    private static final long SIZE = 8L << 20;
    private static final int REP_ACK = 1;
    private static final int REP_ERR_TLS_REQD = 0x80000005;
    private static final int REP_ERR_POLICY = 0x80000002;

    @TempDir
    static Path pkiDir;
    static TestPki pki;

    @TempDir
    Path dir;

    @BeforeAll
    static void makeCertificates() throws IOException {
        pki = new TestPki(pkiDir);
    }

    private static TlsSettings require() {
        return TlsSettings.of(TlsSettings.Mode.REQUIRE, pki.server);
    }

    private static TlsSettings allowList() {
        return new TlsSettings(TlsSettings.Mode.REQUIRE, pki.server, true, Set.of(TestPki.ALLOWED_DN));
    }

    private static String nbds(NbdFixture f, String export, Path certs) {
        return "nbds://127.0.0.1:" + f.server.port() + "/" + export + "?tls-certificates=" + certs;
    }

    private static X509Certificate cert(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    /** A JDK client context trusting the test CA, presenting the client certificate in {@code clientDir} if any. */
    private SSLContext javaClient(Path clientDir, String... protocols) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", cert(clientDir.resolve("ca-cert.pem")));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        javax.net.ssl.KeyManager[] kms = null;
        if (Files.exists(clientDir.resolve("client-cert.pem"))) {
            Path p12 = dir.resolve("client-" + clientDir.getFileName() + ".p12");
            ok(60, "openssl", "pkcs12", "-export", "-in", clientDir.resolve("client-cert.pem").toString(), "-inkey",
                    clientDir.resolve("client-key.pem").toString(), "-out", p12.toString(), "-passout", "pass:t");
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(p12)) {
                ks.load(in, "t".toCharArray());
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
            kmf.init(ks, "t".toCharArray());
            kms = kmf.getKeyManagers();
        }
        SSLContext c = SSLContext.getInstance(protocols.length == 1 ? protocols[0] : "TLS");
        c.init(kms, tmf.getTrustManagers(), null);
        return c;
    }

    /** The process's open fds once the server has no connection left (a baseline for {@link #assertSettled}). */
    private static int settledFds(NbdFixture f) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (f.server.connectionCount() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return Fds.openFdCount();
    }

    /**
     * Waits until the server has no connection and the process's fd count is back to
     * {@code before} or below (a descriptor of an earlier test that the JVM's cleaner closes
     * meanwhile is not this test's leak).
     */
    private static void assertSettled(NbdFixture f, int fdsBefore) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while ((f.server.connectionCount() != 0 || Fds.openFdCount() > fdsBefore) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, f.server.connectionCount(), "connections left");
        int after = Fds.openFdCount();
        assertTrue(after <= fdsBefore, "open fds before/after: " + fdsBefore + " / " + after);
    }

    /** One GO, a write and a read back over TLS with the JDK client. */
    private void roundTrip(NbdFixture f, SSLContext client, byte seed) throws Exception {
        try (RawNbdClient c = new RawNbdClient(f.server.port())) {
            c.greet(3);
            assertEquals(REP_ACK, c.startTls(client));
            c.goOnly("disk", false);
            byte[] data = new byte[70_000];
            new Random(seed).nextBytes(data);
            c.write(1, 4096, data, 0);
            assertEquals(0, c.simpleReply(1));
            assertArrayEquals(data, c.read(2, 4096, data.length));
            c.disconnect();
        }
    }

    @Test
    void plainClientAgainstRequireIsRefusedAndLearnsNothing() throws Exception {
        Path img = image(dir, "img", SIZE, 1);
        try (NbdFixture f = new NbdFixture(require())) {
            f.server.addExport(new ExportSpec("secret-disk", img, false, false, "the secret description", null));
            f.server.addExport(ExportSpec.of("disk", image(dir, "img2", SIZE, 11)));
            try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                c.greet(3);
                List<byte[]> seen = new ArrayList<>();
                for (int[] opt : new int[][] {{3}, {6}, {7}, {8}, {9}, {10}}) {
                    byte[] data = switch (opt[0]) {
                        case 6, 7 -> RawNbdClient.goData("secret-disk", 1, 2);
                        case 9, 10 -> new byte[] {0, 0, 0, 11, 's', 'e', 'c', 'r', 'e', 't', '-', 'd', 'i', 's', 'k',
                            0, 0, 0, 0};
                        default -> new byte[0];
                    };
                    c.option(opt[0], data);
                    RawNbdClient.OptReply r = c.optReply();
                    assertEquals(REP_ERR_TLS_REQD, r.type(), "option " + opt[0] + ": " + r.text());
                    seen.add(r.data());
                }
                for (byte[] d : seen) {
                    String text = new String(d, StandardCharsets.UTF_8);
                    assertFalse(text.contains("secret"), text);
                    assertFalse(text.contains(Long.toString(SIZE)), text);
                }
                c.option(2, new byte[0]); // ABORT is still answered
                assertEquals(REP_ACK, c.optReply().type());
            }
            // NBD_OPT_EXPORT_NAME has no error reply: the connection closes, with no size sent.
            try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                c.greet(3);
                c.option(1, "secret-disk".getBytes(StandardCharsets.UTF_8));
                assertTrue(c.closedByServer());
            }
            Path plainClient = pki.anonymousClient;
            NbdFixture.Result r = run(30, "nbdinfo", "--list", f.uri(""));
            assertNotEquals(0, r.exit(), r.output());
            assertFalse(r.output().contains("secret"), r.output());
            roundTrip(f, javaClient(plainClient), (byte) 1);
        }
    }

    @Test
    void tlsOnAlsoServesPlaintextAndForgetsOptionsBeforeTheUpgrade() throws Exception {
        Path img = image(dir, "img", SIZE, 2);
        try (NbdFixture f = new NbdFixture(TlsSettings.of(TlsSettings.Mode.ON, pki.server))) {
            f.server.addExport(ExportSpec.of("disk", img));
            ok(30, "nbdinfo", f.uri("disk"));
            try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                c.greet(3);
                c.option(8, new byte[0]);
                assertEquals(REP_ACK, c.optReply().type());
                assertEquals(REP_ACK, c.startTls(javaClient(pki.anonymousClient)));
                assertEquals("TLSv1.3", c.tls.getSession().getProtocol());
                // structured replies were forgotten by the upgrade: a second request is accepted again
                c.option(8, new byte[0]);
                assertEquals(REP_ACK, c.optReply().type());
                c.option(5, new byte[0]);
                assertEquals(0x80000003, c.optReply().type(), "a second STARTTLS: ERR_INVALID");
            }
        }
    }

    @Test
    void aListenerAllowListRefusesPlaintextClientsEvenWithTlsOn() throws Exception {
        Path img = image(dir, "img", SIZE, 12);
        try (NbdFixture f = new NbdFixture(new TlsSettings(TlsSettings.Mode.ON, pki.server, true,
                Set.of(TestPki.ALLOWED_DN)))) {
            f.server.addExport(ExportSpec.of("disk", img));
            try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                c.greet(3);
                c.option(7, RawNbdClient.goData("disk"));
                assertEquals(REP_ERR_TLS_REQD, c.optReply().type(), "a client without a certificate to check");
            }
            NbdFixture.Result plain = run(30, "qemu-io", "-f", "raw", "-c", "read 0 4k", f.uri("disk"));
            assertNotEquals(0, plain.exit(), plain.output());
            assertTrue(ok(30, "nbdinfo", nbds(f, "disk", pki.allowedClient)).contains("export-size: " + SIZE));
        }
    }

    @Test
    void nbdMainWithCredentialsAloneRequiresTlsAsQemuNbdDoes() throws Exception {
        Path img = image(dir, "img", SIZE, 13);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        try (NbdMainProcess p = NbdMainProcess.start(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "--add-exports", "java.base/jdk.internal.vm=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "org.aiolos.nbd.NbdMain", "--file", img.toString(), "--name", "disk", "--port", "0", "--tls-creds",
                pki.server.toString()))) {
            int port = p.listeningPort(60);
            NbdFixture.Result plain = run(30, "nbdinfo", "nbd://127.0.0.1:" + port + "/disk");
            assertNotEquals(0, plain.exit(), plain.output());
            assertFalse(plain.output().contains("export-size"), plain.output());
            assertTrue(ok(30, "nbdinfo", "nbds://127.0.0.1:" + port + "/disk?tls-certificates=" + pki.anonymousClient)
                    .contains("export-size: " + SIZE));
        }
    }

    @Test
    void tls12IsServedAndOlderProtocolsAreNot() throws Exception {
        Path img = image(dir, "img", SIZE, 3);
        try (NbdFixture f = new NbdFixture(require())) {
            f.server.addExport(ExportSpec.of("disk", img));
            try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                c.greet(3);
                SSLContext tls12 = javaClient(pki.anonymousClient, "TLSv1.2");
                assertEquals(REP_ACK, c.startTls(tls12));
                assertEquals("TLSv1.2", c.tls.getSession().getProtocol());
                c.goOnly("disk", false);
                assertEquals(0, c.flush(7));
            }
            // GnuTLS held to TLS 1.2 (QEMU's tls-creds priority string), reading the whole image.
            String creds = "tls-creds-x509,id=tls0,endpoint=client,dir=" + pki.anonymousClient
                    + ",priority=NORMAL:-VERS-TLS1.3";
            List<String> lines;
            try (LogCapture logged = new LogCapture(Level.FINE)) { // the negotiated protocol is logged at DEBUG
                ok(60, "qemu-img", "compare", "--object", creds, "--image-opts", "driver=file,filename=" + img,
                        "driver=nbd,host=127.0.0.1,port=" + f.server.port() + ",export=disk,tls-creds=tls0");
                lines = logged.lines();
            }
            assertTrue(lines.stream().anyMatch(l -> l.contains("TLSv1.2 TLS_")), lines.toString());
            assertFalse(lines.stream().anyMatch(l -> l.contains("TLSv1.3")), lines.toString());
            try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                c.greet(3);
                SSLContext old = javaClient(pki.anonymousClient, "TLSv1.1");
                assertThrows(SSLException.class, () -> {
                    c.option(5, new byte[0]);
                    assertEquals(REP_ACK, c.optReply().type());
                    javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) old.getSocketFactory()
                            .createSocket(c.socket, "localhost", c.socket.getPort(), true);
                    s.setEnabledProtocols(new String[] {"TLSv1.1"});
                    s.startHandshake();
                });
            }
        }
    }

    @Test
    void qemuImgAndQemuIoOverTls() throws Exception {
        Path target = dir.resolve("target");
        Files.write(target, new byte[(int) SIZE]);
        Path src = image(dir, "src", SIZE, 4);
        Path back = dir.resolve("back.raw");
        try (NbdFixture f = new NbdFixture(require())) {
            f.server.addExport(ExportSpec.of("t", target));
            String creds = "tls-creds-x509,id=tls0,endpoint=client,dir=" + pki.anonymousClient;
            String opts = "driver=nbd,host=127.0.0.1,port=" + f.server.port() + ",export=t,tls-creds=tls0";
            String info = ok(30, "qemu-img", "info", "--output=json", "--object", creds, "--image-opts", opts);
            assertTrue(info.contains("\"virtual-size\": " + SIZE), info);
            ok(60, "qemu-img", "convert", "-n", "--object", creds, "-f", "raw", "--target-image-opts", src.toString(),
                    opts);
            ok(60, "qemu-img", "compare", "--object", creds, "--image-opts", "driver=file,filename=" + src, opts);
            ok(60, "qemu-img", "convert", "--object", creds, "--image-opts", opts, "-O", "raw", back.toString());
            List<String> io = new ArrayList<>(qemuIo("x", "write -P 0x5a 1M 2M", "read -P 0x5a 1M 2M",
                    "write -P 0x11 777 5555", "read -P 0x11 777 5555", "flush"));
            io.remove(io.size() - 1); // the URI: qemu-io gets --image-opts instead
            io.remove(2); // "raw" after -f
            io.remove(1); // -f
            io.addAll(1, List.of("--object", creds, "--image-opts"));
            io.add(opts);
            String out = ok(60, io.toArray(String[]::new));
            assertFalse(out.contains("failed"), out);
        }
        assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(back), "nbd -> file copy over TLS");
    }

    @Test
    void libnbdToolsAndFioOverTls() throws Exception {
        Path img = image(dir, "img", SIZE, 5);
        Path copy = dir.resolve("copy.raw");
        try (NbdFixture f = new NbdFixture(require())) {
            f.server.addExport(new ExportSpec("disk", img, false, false, "over tls", null));
            String uri = nbds(f, "disk", pki.anonymousClient);
            String info = ok(30, "nbdinfo", uri);
            assertTrue(info.contains("export-size: " + SIZE), info);
            assertTrue(info.contains("over tls"), info);
            assertTrue(ok(30, "nbdinfo", "--list", nbds(f, "", pki.anonymousClient)).contains("disk"));
            ok(60, "nbdcopy", uri, copy.toString());
            assertArrayEquals(Files.readAllBytes(img), Files.readAllBytes(copy));
            // fio's nbd engine refuses tls-certificates in the URI (libnbd's local file access
            // is off there), so libnbd finds the CA in its default place under $HOME.
            Path home = Files.createDirectories(dir.resolve("home/.pki/libnbd"));
            Files.copy(pki.anonymousClient.resolve("ca-cert.pem"), home.resolve("ca-cert.pem"));
            NbdFixture.Result fio = run(java.util.Map.of("HOME", dir.resolve("home").toString()), 120, "fio",
                    "--name=tls", "--ioengine=nbd", "--uri=nbds://127.0.0.1:" + f.server.port() + "/disk",
                    "--rw=randrw", "--bs=4k", "--size=4M", "--iodepth=16", "--verify=crc32c",
                    "--verify_state_save=0", "--do_verify=1", "--verify_fatal=1", "--output-format=terse");
            assertEquals(0, fio.exit(), fio.output());
            assertFalse(fio.output().toLowerCase().contains("verify: bad"), fio.output());
            assertEquals(0, f.server.exports().get(0).errors());
        }
    }

    /**
     * The TLS sessions of one IOThread pass their ciphertext to the socket through one
     * native stage. Three clients each ask for 16 MiB and read nothing until all of it is
     * asked, so the server's writers of all three block on full sockets at once; then the
     * replies are read a request at a time from each client in turn. A stage held across a
     * yield would put one session's records on another's socket, which the client's AEAD
     * check refuses; every byte must come back as the image has it.
     */
    @Test
    void sessionsBlockedOnFullSocketsAtOnceKeepTheirRecords() throws Exception {
        int chunk = 1 << 20;
        int requests = 16;
        Path img = image(dir, "img", (long) requests * chunk, 12);
        SSLContext client = javaClient(pki.anonymousClient);
        try (NbdFixture f = new NbdFixture(require())) {
            f.server.addExport(ExportSpec.of("disk", img));
            roundTrip(f, client, (byte) 12); // the first session opens what the JDK's TLS keeps (its random source)
            byte[] want = Files.readAllBytes(img); // with what the round trip wrote
            int fdsBefore = settledFds(f);
            List<RawNbdClient> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    RawNbdClient c = new RawNbdClient(f.server.port());
                    clients.add(c);
                    c.greet(3);
                    assertEquals(REP_ACK, c.startTls(client));
                    c.goOnly("disk", false);
                }
                for (RawNbdClient c : clients) {
                    for (int j = 0; j < requests; j++) {
                        c.request(0, 0, j, (long) j * chunk, chunk);
                    }
                    c.out.flush();
                }
                byte[] got = new byte[chunk];
                for (int j = 0; j < requests; j++) {
                    for (RawNbdClient c : clients) {
                        // Replies may overtake each other: the cookie says which request this is.
                        assertEquals(RawNbdClient.SIMPLE_MAGIC, c.in.readInt());
                        assertEquals(0, c.in.readInt());
                        long cookie = c.in.readLong();
                        c.in.readFully(got);
                        int off = (int) cookie * chunk;
                        assertArrayEquals(java.util.Arrays.copyOfRange(want, off, off + chunk), got,
                                "request " + cookie);
                    }
                }
                for (RawNbdClient c : clients) {
                    c.disconnect();
                }
            } finally {
                for (RawNbdClient c : clients) {
                    c.close();
                }
            }
            assertEquals(0, f.server.exports().get(0).errors());
            assertSettled(f, fdsBefore);
        }
    }

    /**
     * A TLS 1.3 client that updates its keys while requests and replies are in flight (what
     * the JDK's client does after {@code jdk.tls.keyLimits}, 2^37 bytes of AES-GCM by
     * default: a long disk copy) asks the server to update its own: the receiver must
     * switch its read key at the right record, and the server's KeyUpdate must go out ahead
     * of its next reply, between the reply writers' records and never inside one. Every
     * byte must come back.
     */
    @Test
    void keyUpdatesFromTheClientMidTransferKeepEveryByte() throws Exception {
        int chunk = 64 << 10;
        int perRound = 8;
        int rounds = 12;
        Path img = image(dir, "img", (long) rounds * perRound * chunk, 13);
        SSLContext client = javaClient(pki.anonymousClient);
        try (NbdFixture f = new NbdFixture(require())) {
            f.server.addExport(ExportSpec.of("disk", img));
            roundTrip(f, client, (byte) 13);
            byte[] want = Files.readAllBytes(img);
            int fdsBefore = settledFds(f);
            Random rnd = new Random(20261203);
            try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                c.greet(3);
                assertEquals(REP_ACK, c.startTls(client));
                assertEquals("TLSv1.3", c.tls.getSession().getProtocol());
                c.goOnly("disk", false);
                // On an idle session the answer waits for the next reply, ahead of its data
                // (RFC 8446 asks for it before the next application data, no sooner); a second
                // request before that reply is answered at once, so answers the engine holds
                // (a queued message and a cipher each) cannot pile up.
                c.tls.startHandshake();
                c.tls.startHandshake();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (c.socket.getInputStream().available() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertTrue(c.socket.getInputStream().available() > 0, "no answer to the second KeyUpdate");
                byte[] data = new byte[chunk];
                byte[] got = new byte[chunk];
                for (int round = 0; round < rounds; round++) {
                    int base = round * perRound * chunk;
                    for (int j = 0; j < perRound; j++) {
                        rnd.nextBytes(data);
                        System.arraycopy(data, 0, want, base + j * chunk, chunk);
                        c.request(0, 1, j, base + (long) j * chunk, chunk);
                        c.out.write(data);
                    }
                    c.out.flush();
                    // KeyUpdate(update_requested) behind the writes: the server answers it
                    // while its replies to them are going out.
                    c.tls.startHandshake();
                    Set<Long> answered = new java.util.HashSet<>();
                    for (int j = 0; j < perRound; j++) {
                        long cookie = c.successfulReplyCookie();
                        assertTrue(cookie < perRound && answered.add(cookie), "write reply " + cookie);
                    }
                    for (int j = 0; j < perRound; j++) {
                        c.request(0, 0, perRound + j, base + (long) j * chunk, chunk);
                        if (j == perRound / 2) {
                            c.out.flush();
                            c.tls.startHandshake(); // and one among the reads
                        }
                    }
                    c.out.flush();
                    for (int j = 0; j < perRound; j++) {
                        long cookie = c.successfulReplyCookie();
                        assertTrue(cookie >= perRound && answered.add(cookie), "read reply " + cookie);
                        c.in.readFully(got);
                        int at = base + (int) (cookie - perRound) * chunk;
                        assertArrayEquals(java.util.Arrays.copyOfRange(want, at, at + chunk), got,
                                "round " + round + ", read " + cookie);
                    }
                    assertEquals(2 * perRound, answered.size());
                }
                c.disconnect();
            }
            assertEquals(0, f.server.exports().get(0).errors());
            assertSettled(f, fdsBefore);
            assertArrayEquals(want, Files.readAllBytes(img));
        }
    }

    /**
     * Key updates in both directions with GnuTLS clients, which accept at most 8 KeyUpdates
     * a second: NbdMain runs in a child JVM whose {@code jdk.tls.keyLimits} is 32 MiB
     * instead of 128 GiB, and 64 MiB go each way. Left to the JDK, the first write copy
     * would end when the read key reached its limit (a KeyUpdate for every record still
     * in flight); the session asks for new keys at half the limit instead
     * ({@code TlsKeyLimits}). Its write key reaches the JDK's limit in the read copies.
     */
    @Test
    void keyUpdatesAtShortKeyLimitsWithRealClients() throws Exception {
        long size = 64L << 20;
        Path img = dir.resolve("img");
        Files.write(img, new byte[(int) size]);
        Path src = image(dir, "src", size, 14);
        Path back = dir.resolve("back.raw");
        try (NbdMainProcess server = nbdMainWithKeyLimit(img, 25)) {
            int port = server.listeningPort(30);
            String uri = "nbds://127.0.0.1:" + port + "/disk?tls-certificates=" + pki.anonymousClient;
            // One connection, at most 4 MiB of requests in flight: well inside the half a limit left.
            ok(120, "nbdcopy", "-C", "1", "-R", "4", "--request-size=1048576", src.toString(), uri);
            ok(120, "nbdcopy", "-C", "1", "-R", "4", "--request-size=1048576", uri, back.toString());
            assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(back), "nbdcopy there and back");
            String creds = "tls-creds-x509,id=tls0,endpoint=client,dir=" + pki.anonymousClient;
            ok(120, "qemu-img", "compare", "--object", creds, "--image-opts", "driver=file,filename=" + src,
                    "driver=nbd,host=127.0.0.1,port=" + port + ",export=disk,tls-creds=tls0");
            SSLContext client = javaClient(pki.anonymousClient);
            try (RawNbdClient c = new RawNbdClient(port)) {
                c.greet(3);
                assertEquals(REP_ACK, c.startTls(client));
                c.goOnly("disk", false);
                byte[] data = new byte[1 << 20];
                new Random(14).nextBytes(data);
                c.write(1, 4096, data, 0);
                assertEquals(0, c.simpleReply(1));
                assertArrayEquals(data, c.read(2, 4096, data.length));
                c.disconnect();
            }
        }
    }

    /**
     * A request for new keys that comes due in the middle of a write's payload, with no other
     * request in flight. libnbd, blocked sending the payload, pauses it when the socket turns
     * readable and reads a reply ({@code ISSUE_COMMAND.PAUSE_WRITE_PAYLOAD}); sent alone, the
     * KeyUpdate decrypts to nothing and left libnbd waiting for a reply that could not come
     * before the rest of the payload, which the server waited for: both ends stalled for good
     * (nbdcopy here, fio's nbd engine by hand). It must go out with the next reply. nbdcopy
     * writes one 32 MiB request at a time; a 16 MiB hole at the start of the source makes the
     * first write 16 MiB long, so the request, due after 32 MiB at a 64 MiB limit, comes due
     * in the middle of the second.
     */
    @Test
    void keyUpdateDueInTheMiddleOfAWriteDoesNotStallLibnbd() throws Exception {
        long hole = 16L << 20;
        long size = hole + (64L << 20);
        Path img = dir.resolve("img");
        Path src = dir.resolve("src");
        try (var out = FileChannel.open(img, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            out.truncate(size).write(ByteBuffer.allocate(1), size - 1);
        }
        try (var out = FileChannel.open(src, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            Random rnd = new Random(18);
            byte[] chunk = new byte[1 << 20];
            for (long at = hole; at < size; at += chunk.length) {
                rnd.nextBytes(chunk);
                out.write(ByteBuffer.wrap(chunk), at);
            }
        }
        try (NbdMainProcess server = nbdMainWithKeyLimit(img, 26)) {
            String uri = "nbds://127.0.0.1:" + server.listeningPort(30) + "/disk?tls-certificates=" + pki.anonymousClient;
            ok(60, "nbdcopy", "-C", "1", "-R", "1", "--request-size=33554432", src.toString(), uri);
            assertEquals(-1, Files.mismatch(src, img), "nbdcopy's copy");
            assertEquals(1, server.linesMatching(KEY_UPDATE_ASKED).size(), "key updates asked for");
        }
    }

    private static final Pattern KEY_UPDATE_ASKED =
            Pattern.compile(".*NBD TLS: \\d+ bytes read under one key; asking the client for new keys.*");

    /**
     * NbdMain serving {@code img} over TLS in a child JVM whose {@code jdk.tls.keyLimits} is
     * 2^{@code log2Limit} bytes instead of 2^37, logging the nbd module's DEBUG lines.
     */
    private NbdMainProcess nbdMainWithKeyLimit(Path img, int log2Limit) throws IOException {
        Path security = Files.writeString(dir.resolve("key-limit-" + log2Limit + ".security"),
                "jdk.tls.keyLimits=AES/GCM/NoPadding KeyUpdate 2^" + log2Limit + ", ChaCha20-Poly1305 KeyUpdate 2^"
                        + log2Limit + "\n");
        Path logging = Files.writeString(dir.resolve("logging.properties"), """
                handlers=java.util.logging.ConsoleHandler
                java.util.logging.ConsoleHandler.level=ALL
                org.aiolos.nbd.level=FINE
                """);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return NbdMainProcess.start(List.of(java, "--enable-native-access=ALL-UNNAMED", "--add-exports",
                "java.base/jdk.internal.vm=ALL-UNNAMED", "-Djava.security.properties=" + security,
                "-Djava.util.logging.config.file=" + logging, "-cp", System.getProperty("java.class.path"),
                "org.aiolos.nbd.NbdMain", "--file", img.toString(), "--name", "disk", "--port", "0", "--tls", "require",
                "--tls-creds", pki.server.toString()));
    }

    /**
     * A TLS 1.2 client that asks for a renegotiation while its replies are going out: the
     * connection is ended with one warning (qemu-nbd ends it too), and the IOThread goes
     * on serving the others. Left to the JDK, the engine would renegotiate, and a reply
     * wrapped while the handshake's delegated tasks ran would get no progress; the writer
     * used to wrap again without yielding, so the tasks' completion could never reach the
     * loop (not seen in these runs: a reply has to come due inside that window).
     */
    @Test
    void tls12RenegotiationIsRefusedWithRepliesInFlight() throws Exception {
        int chunk = 1 << 20;
        int requests = 8;
        Path img = image(dir, "img", (long) requests * chunk, 15);
        LogCapture logged = new LogCapture();
        try (logged; NbdFixture f = new NbdFixture(require())) {
            f.server.addExport(ExportSpec.of("disk", img));
            SSLContext tls12 = javaClient(pki.anonymousClient, "TLSv1.2");
            SSLContext tls13 = javaClient(pki.anonymousClient);
            roundTrip(f, tls13, (byte) 15);
            int fdsBefore = settledFds(f);
            for (int attempt = 0; attempt < 3; attempt++) {
                try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                    c.greet(3);
                    assertEquals(REP_ACK, c.startTls(tls12));
                    assertEquals("TLSv1.2", c.tls.getSession().getProtocol());
                    c.goOnly("disk", false);
                    for (int j = 0; j < requests; j++) {
                        c.request(0, 0, j, (long) j * chunk, chunk);
                    }
                    c.out.flush();
                    // Renegotiation behind the requests: whatever replies were out before it
                    // arrive, and then the connection is gone.
                    assertThrows(IOException.class, () -> {
                        c.tls.startHandshake();
                        byte[] got = new byte[chunk];
                        for (int j = 0; j < requests; j++) {
                            c.successfulReplyCookie();
                            c.in.readFully(got);
                        }
                        c.flush(99);
                    });
                }
                roundTrip(f, tls13, (byte) (16 + attempt));
            }
            assertSettled(f, fdsBefore);
        }
        List<String> warnings = logged.lines();
        assertEquals(3, warnings.stream().filter(w -> w.startsWith("WARNING")
                && w.contains("TLS 1.2 renegotiation requested by the client; refused")).count(), warnings.toString());
    }

    @Test
    void clientCertificatesAndTheAllowList() throws Exception {
        Path img = image(dir, "img", SIZE, 6);
        LogCapture logged = new LogCapture();
        try (logged; NbdFixture f = new NbdFixture(allowList())) {
            f.server.addExport(ExportSpec.of("disk", img));
            ok(30, "nbdinfo", nbds(f, "disk", pki.allowedClient)); // warm up, the JDK's TLS client too
            roundTrip(f, javaClient(pki.allowedClient), (byte) 1);
            int fdsBefore = settledFds(f);
            for (Path refused : List.of(pki.otherClient, pki.foreignClient, pki.anonymousClient)) {
                NbdFixture.Result r = run(30, "nbdinfo", nbds(f, "disk", refused));
                assertNotEquals(0, r.exit(), refused + ": " + r.output());
                assertFalse(r.output().contains("export-size"), r.output());
            }
            assertThrows(IOException.class, () -> roundTrip(f, javaClient(pki.otherClient), (byte) 2));
            roundTrip(f, javaClient(pki.allowedClient), (byte) 3);
            assertTrue(ok(30, "nbdinfo", nbds(f, "disk", pki.allowedClient)).contains("export-size: " + SIZE));
            assertSettled(f, fdsBefore);
        }
        List<String> warnings = logged.lines();
        long otherDn = warnings.stream().filter(w -> w.contains("CN=other-client")).count();
        assertTrue(otherDn >= 1, "the refused DN is logged: " + warnings);
        assertTrue(warnings.stream().filter(w -> w.contains("CN=other-client")).allMatch(
                w -> w.startsWith("WARNING") && w.contains("not on the allow-list")), warnings.toString());
        assertTrue(warnings.stream().anyMatch(w -> w.startsWith("WARNING") && w.contains("TLS handshake failed")),
                warnings.toString());
        // A certificate of another CA is refused naming whose it is, not only why.
        assertTrue(warnings.stream().anyMatch(w -> w.startsWith("WARNING") && w.contains("TLS handshake failed")
                && w.contains("(issuer 'CN=Somebody Else CA')") && w.contains("refused: ")), warnings.toString());
    }

    /** Export names in an NBD_OPT_LIST reply sequence. */
    private static List<String> listNames(RawNbdClient c) throws IOException {
        c.option(3, new byte[0]);
        List<String> names = new ArrayList<>();
        for (RawNbdClient.OptReply r = c.optReply(); r.type() != REP_ACK; r = c.optReply()) {
            assertEquals(2, r.type(), "NBD_REP_SERVER");
            int n = ByteBuffer.wrap(r.data()).getInt();
            names.add(new String(r.data(), 4, n, StandardCharsets.UTF_8));
        }
        return names;
    }

    /** NBD_OPT_GO for {@code name}: the final reply's type (NBD_REP_ACK or an error). */
    private static int goReply(RawNbdClient c, String name) throws IOException {
        c.option(7, RawNbdClient.goData(name));
        while (true) {
            RawNbdClient.OptReply r = c.optReply();
            if (r.type() == REP_ACK || r.type() < 0) {
                return r.type();
            }
        }
    }

    @Test
    void allowListsArePerExport() throws Exception {
        Path img = image(dir, "img", SIZE, 9);
        LogCapture logged = new LogCapture();
        // One listener, TLS optional, client certificates verified; three exports with different lists.
        try (logged; NbdFixture f = new NbdFixture(new TlsSettings(TlsSettings.Mode.ON, pki.server, true, Set.of()))) {
            f.server.addExport(ExportSpec.of("public", img));
            f.server.addExport(ExportSpec.of("backup", img).withAllowedClients(Set.of(TestPki.ALLOWED_DN)));
            f.server.addExport(ExportSpec.of("admin", img).withAllowedClients(Set.of(TestPki.OTHER_DN)));
            assertTrue(ok(30, "nbdinfo", nbds(f, "backup", pki.allowedClient)).contains("export-size: " + SIZE));
            int fdsBefore = settledFds(f);

            try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                c.greet(3);
                assertEquals(REP_ACK, c.startTls(javaClient(pki.allowedClient)));
                assertEquals(List.of("admin", "backup", "public").stream().filter(n -> !n.equals("admin")).sorted()
                        .toList(), listNames(c).stream().sorted().toList(), "the list shows what this client may use");
                assertEquals(REP_ERR_POLICY, goReply(c, "admin"));
                c.option(6, RawNbdClient.goData("admin")); // NBD_OPT_INFO: refused the same way
                assertEquals(REP_ERR_POLICY, c.optReply().type());
                c.goOnly("backup", false);
                byte[] data = new byte[8192];
                new Random(9).nextBytes(data);
                c.write(1, 0, data, 0);
                assertEquals(0, c.simpleReply(1));
                assertArrayEquals(data, c.read(2, 0, data.length));
                c.disconnect();
                // The server ends the session with close_notify: a clean end of stream, not a truncation.
                assertEquals(-1, c.in.read(), "close_notify, then end of stream");
            }
            try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                c.greet(3);
                assertEquals(REP_ACK, c.startTls(javaClient(pki.otherClient)));
                assertEquals(List.of("admin", "public"), listNames(c).stream().sorted().toList());
                RawNbdClient.OptReply r;
                c.option(7, RawNbdClient.goData("backup"));
                r = c.optReply();
                assertEquals(REP_ERR_POLICY, r.type());
                assertTrue(r.text().contains("CN=other-client") && r.text().contains("'backup'"), r.text());
                assertEquals(REP_ERR_POLICY, goReply(c, "backup"), "asked again: refused again");
                c.goOnly("admin", false);
                assertEquals(0, c.flush(3));
            }
            try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                c.greet(3);
                assertEquals(List.of("public"), listNames(c), "plaintext: only what needs no certificate");
                assertEquals(REP_ERR_TLS_REQD, goReply(c, "backup"));
                c.goOnly("public", false);
                assertEquals(0, c.flush(4));
            }
            try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                c.greet(3);
                assertEquals(REP_ACK, c.startTls(javaClient(pki.otherClient)));
                c.option(1, "backup".getBytes(StandardCharsets.UTF_8)); // NBD_OPT_EXPORT_NAME: no error reply exists
                assertTrue(c.closedByServer(), "EXPORT_NAME for a refused export ends the connection");
            }
            NbdFixture.Result r = run(30, "nbdinfo", nbds(f, "backup", pki.otherClient));
            assertNotEquals(0, r.exit(), r.output());
            assertFalse(r.output().contains("export-size"), r.output());
            // The other client's key is RSA: GnuTLS clients send it only when the server names no CAs (ServerTls).
            assertTrue(ok(30, "nbdinfo", nbds(f, "admin", pki.otherClient)).contains("export-size: " + SIZE));
            assertTrue(ok(30, "qemu-img", "info", "--object", "tls-creds-x509,id=tls0,endpoint=client,dir="
                    + pki.otherClient, "--image-opts", "driver=nbd,host=127.0.0.1,port=" + f.server.port()
                    + ",export=admin,tls-creds=tls0").contains("virtual size: 8 MiB"));
            assertSettled(f, fdsBefore);

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
                try (NbdFixture plain = new NbdFixture(TlsSettings.of(TlsSettings.Mode.REQUIRE, pki.server))) {
                    plain.server.addExport(ExportSpec.of("x", img).withAllowedClients(Set.of(TestPki.ALLOWED_DN)));
                }
            });
            assertTrue(e.getMessage().contains("does not verify client certificates"), e.getMessage());
        }
        List<String> warnings = logged.lines();
        List<String> refusals = warnings.stream().filter(w -> w.contains("refused for export")).toList();
        assertTrue(refusals.stream().anyMatch(w -> w.startsWith("WARNING") && w.contains("CN=other-client")
                && w.contains("'backup'")), warnings.toString());
        assertTrue(refusals.stream().filter(w -> w.startsWith("WARNING")).count() <= 3,
                "one warning per connection: " + refusals);
    }

    @Test
    void expiredServerCertificateIsRefusedByClientsAndOthersAreStillServed() throws Exception {
        Path img = image(dir, "img", SIZE, 7);
        try (NbdFixture f = new NbdFixture(TlsSettings.of(TlsSettings.Mode.REQUIRE, pki.expiredServer))) {
            f.server.addExport(ExportSpec.of("disk", img));
            SSLContext client = javaClient(pki.anonymousClient);
            assertThrows(SSLException.class, () -> roundTrip(f, client, (byte) 4)); // warm up
            int fdsBefore = settledFds(f);
            NbdFixture.Result r = run(30, "nbdinfo", nbds(f, "disk", pki.anonymousClient));
            assertNotEquals(0, r.exit(), r.output());
            assertTrue(r.output().toLowerCase().contains("expired") || r.output().contains("certificate"), r.output());
            assertThrows(SSLException.class, () -> roundTrip(f, client, (byte) 4));
            assertSettled(f, fdsBefore);
        }
    }

    @Test
    void halfwayHandshakeAndGarbageAfterStarttlsCloseOnlyThatConnection() throws Exception {
        Path img = image(dir, "img", SIZE, 8);
        try (NbdFixture f = new NbdFixture(require())) {
            f.server.addExport(ExportSpec.of("disk", img));
            SSLContext client = javaClient(pki.anonymousClient);
            roundTrip(f, client, (byte) 5); // warm up (the fixture's one-minute handshake timeout)
            f.server.setHandshakeTimeout(Duration.ofSeconds(2)); // for the stalled client below
            int fdsBefore = settledFds(f);
            // Stops half way: a TLS record header promising 300 bytes, then 20 of them.
            try (RawNbdClient stalled = new RawNbdClient(f.server.port());
                    RawNbdClient garbage = new RawNbdClient(f.server.port())) {
                stalled.greet(3);
                stalled.option(5, new byte[0]);
                assertEquals(REP_ACK, stalled.optReply().type());
                stalled.out.write(new byte[] {0x16, 0x03, 0x01, 0x01, 0x2c, 0x01, 0x00, 0x01, 0x28, 0x03, 0x03});
                stalled.out.write(new byte[9]);
                stalled.out.flush();
                garbage.greet(3);
                garbage.option(5, new byte[0]);
                assertEquals(REP_ACK, garbage.optReply().type());
                byte[] junk = new byte[4000];
                new Random(99).nextBytes(junk);
                garbage.out.write(junk);
                garbage.out.flush();
                roundTrip(f, client, (byte) 6); // others are served meanwhile
                assertTrue(garbage.closedByServer(), "garbage after STARTTLS closes the connection");
                assertTrue(stalled.closedByServer(), "a stalled handshake is cut by the handshake timeout");
            }
            f.server.setHandshakeTimeout(Duration.ofMinutes(1));
            roundTrip(f, client, (byte) 7);
            assertSettled(f, fdsBefore);
        }
    }

    @Test
    void renewedCredentialsServeNewConnectionsWhileOldOnesContinue() throws Exception {
        Path img = image(dir, "img", SIZE, 9);
        Path creds = serverCredentialsCopy("creds");
        try (NbdFixture f = new NbdFixture(TlsSettings.of(TlsSettings.Mode.REQUIRE, creds))) {
            f.server.addExport(ExportSpec.of("disk", img));
            SSLContext client = javaClient(pki.anonymousClient);
            try (RawNbdClient old = new RawNbdClient(f.server.port())) {
                old.greet(3);
                old.startTls(client);
                BigInteger first = ((X509Certificate) old.tls.getSession().getPeerCertificates()[0]).getSerialNumber();
                old.goOnly("disk", false);
                // Renew: the expired directory holds the same key with another certificate.
                Path next = creds.resolve("server-cert.pem.new");
                Files.copy(pki.expiredServer.resolve("server-cert.pem"), next);
                Files.move(next, creds.resolve("server-cert.pem"), StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
                Files.setLastModifiedTime(creds.resolve("server-cert.pem"),
                        java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
                // A new client now gets the renewed certificate (the expired one, so the JDK client refuses it).
                NbdFixture.Result r = run(30, "nbdinfo", nbds(f, "disk", pki.anonymousClient));
                assertNotEquals(0, r.exit(), r.output());
                // ... while the connection made before keeps its session.
                assertEquals(0, old.flush(3));
                assertArrayEquals(Files.readAllBytes(img), readAll(old, SIZE));
                BigInteger still = ((X509Certificate) old.tls.getSession().getPeerCertificates()[0]).getSerialNumber();
                assertEquals(first, still);
            }
            // Renew again with the good certificate: clients connect again.
            Files.copy(pki.server.resolve("server-cert.pem"), creds.resolve("server-cert.pem"),
                    StandardCopyOption.REPLACE_EXISTING);
            Files.setLastModifiedTime(creds.resolve("server-cert.pem"),
                    java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 10000));
            ok(30, "nbdinfo", nbds(f, "disk", pki.anonymousClient));
        }
    }

    /**
     * A server key that stays gone is said once (a restart would fail on it), while the key
     * loaded before keeps serving; a key gone for an instant (a replacement) is not.
     */
    @Test
    void aServerKeyThatStaysGoneIsReportedOnceAndTheLoadedOneServes() throws Exception {
        Path img = image(dir, "img", SIZE, 12);
        Path creds = serverCredentialsCopy("creds-key");
        LogCapture logged = new LogCapture();
        try (logged; NbdFixture f = new NbdFixture(TlsSettings.of(TlsSettings.Mode.REQUIRE, creds))) {
            f.server.addExport(ExportSpec.of("disk", img));
            ok(30, "nbdinfo", nbds(f, "disk", pki.anonymousClient));
            Files.move(creds.resolve("server-key.pem"), dir.resolve("server-key.pem.moved"));
            ok(30, "nbdinfo", nbds(f, "disk", pki.anonymousClient)); // notices it missing
            Thread.sleep(2_100);
            for (int i = 0; i < 3; i++) {
                assertTrue(ok(30, "nbdinfo", nbds(f, "disk", pki.anonymousClient)).contains("export-size: " + SIZE));
            }
            Files.move(dir.resolve("server-key.pem.moved"), creds.resolve("server-key.pem"));
            ok(30, "nbdinfo", nbds(f, "disk", pki.anonymousClient));
        }
        List<String> said = logged.lines(l -> l.contains("missing from"));
        assertEquals(1, said.size(), logged.lines().toString());
        assertTrue(said.get(0).startsWith("WARNING") && said.get(0).contains("server-key.pem missing from " + creds)
                && said.get(0).contains("still using the credentials loaded before"), said.get(0));
    }

    @Test
    void removedCaFileKeepsThePreviousCredentialsAndTheAllowList() throws Exception {
        Path img = image(dir, "img", SIZE, 10);
        Path creds = serverCredentialsCopy("creds-ca");
        LogCapture logged = new LogCapture();
        try (logged; NbdFixture f = new NbdFixture(new TlsSettings(TlsSettings.Mode.REQUIRE, creds, true,
                Set.of(TestPki.ALLOWED_DN)))) {
            f.server.addExport(ExportSpec.of("disk", img));
            ok(30, "nbdinfo", nbds(f, "disk", pki.allowedClient));
            // An operator moves the CA away (renewing it, say) while the listener serves.
            Files.move(creds.resolve("ca-cert.pem"), dir.resolve("ca-cert.pem.moved"));
            assertTrue(ok(30, "nbdinfo", nbds(f, "disk", pki.allowedClient)).contains("export-size: " + SIZE));
            for (Path refused : List.of(pki.otherClient, pki.foreignClient, pki.anonymousClient)) {
                NbdFixture.Result r = run(30, "nbdinfo", nbds(f, "disk", refused));
                assertNotEquals(0, r.exit(), refused + ": " + r.output());
                assertFalse(r.output().contains("export-size"), r.output());
            }
            // Back in place: served as before.
            Files.move(dir.resolve("ca-cert.pem.moved"), creds.resolve("ca-cert.pem"));
            assertTrue(ok(30, "nbdinfo", nbds(f, "disk", pki.allowedClient)).contains("export-size: " + SIZE));
        }
        List<String> lines = logged.lines();
        assertEquals(1, lines.stream().filter(l -> l.startsWith("WARNING") && l.contains("ca-cert.pem is missing")
                && l.contains("still using the previous ones")).count(), lines.toString());
        // The three refused clients, and nobody else (the allowed one was never refused).
        assertEquals(3, lines.stream().filter(l -> l.contains("closing the connection")).count(), lines.toString());
    }

    @Test
    void aBurstOfHandshakesReadsChangedCredentialsOnce() throws Exception {
        Path img = image(dir, "img", SIZE, 14);
        Path creds = serverCredentialsCopy("creds-burst");
        SSLContext client = javaClient(pki.anonymousClient);
        LogCapture logged = new LogCapture();
        try (logged; NbdFixture f = new NbdFixture(TlsSettings.of(TlsSettings.Mode.REQUIRE, creds))) {
            f.server.addExport(ExportSpec.of("disk", img));
            roundTrip(f, client, (byte) 1);
            long t = System.currentTimeMillis();
            // A renewal (the same certificate, a new time stamp), then a broken one: each met by
            // 24 handshakes at once.
            Files.setLastModifiedTime(creds.resolve("server-cert.pem"), java.nio.file.attribute.FileTime.fromMillis(t + 5000));
            handshakesAtOnce(f, client, 24);
            Files.writeString(creds.resolve("server-cert.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n");
            Files.setLastModifiedTime(creds.resolve("server-cert.pem"), java.nio.file.attribute.FileTime.fromMillis(t + 10000));
            handshakesAtOnce(f, client, 24);
            roundTrip(f, client, (byte) 2); // still on the renewed credentials
        }
        List<String> lines = logged.lines();
        assertEquals(1, lines.stream().filter(l -> l.contains("reloaded")).count(), lines.toString());
        assertEquals(1, lines.stream().filter(l -> l.contains("changed but do not load")).count(), lines.toString());
    }

    /** {@code n} clients upgrading to TLS at the same moment; each connection then closes. */
    private static void handshakesAtOnce(NbdFixture f, SSLContext client, int n) throws Exception {
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger upgraded = new java.util.concurrent.atomic.AtomicInteger();
        for (int i = 0; i < n; i++) {
            threads.add(Thread.ofPlatform().start(() -> {
                try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                    c.greet(3);
                    go.await();
                    if (c.startTls(client) == REP_ACK) {
                        upgraded.incrementAndGet();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        go.countDown();
        for (Thread t : threads) {
            t.join(60_000);
        }
        assertEquals(n, upgraded.get());
    }

    /** A directory of its own holding the server's credentials, for a test that changes them. */
    private Path serverCredentialsCopy(String name) throws IOException {
        Path creds = Files.createDirectories(dir.resolve(name));
        for (String n : List.of("ca-cert.pem", "server-cert.pem", "server-key.pem")) {
            Files.copy(pki.server.resolve(n), creds.resolve(n));
        }
        return creds;
    }

    private static byte[] readAll(RawNbdClient c, long size) throws IOException {
        byte[] all = new byte[(int) size];
        int chunk = 1 << 20;
        for (int off = 0; off < size; off += chunk) {
            System.arraycopy(c.read(100 + off, off, chunk), 0, all, off, chunk);
        }
        return all;
    }

    @Test
    void settingsRejectWhatCannotWork() throws Exception {
        // A missing directory is found when the listener opens (the OSGi side then tries again).
        IOException missing = assertThrows(IOException.class,
                () -> new NbdFixture(TlsSettings.of(TlsSettings.Mode.REQUIRE, dir.resolve("nope"))).close());
        assertTrue(missing.getMessage().contains("is not a directory"), missing.getMessage());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TlsSettings(TlsSettings.Mode.ON, pki.server, false, Set.of("CN=x")));
        assertTrue(e.getMessage().contains("verify-peer"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new TlsSettings(TlsSettings.Mode.ON, pki.server, true, Set.of("not a dn")));
        assertTrue(e.getMessage().contains("not a distinguished name"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new TlsSettings(TlsSettings.Mode.OFF, pki.server, false, Set.of()));
        assertTrue(e.getMessage().contains("tls is off, so the listener would serve plaintext"), e.getMessage());
        assertEquals(TlsSettings.Mode.REQUIRE, TlsSettings.Mode.parse("Require"));
        Path bad = Files.createDirectories(dir.resolve("bad"));
        Files.copy(pki.server.resolve("server-cert.pem"), bad.resolve("server-cert.pem"));
        Files.writeString(bad.resolve("server-key.pem"), "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
                + "-----END ENCRYPTED PRIVATE KEY-----\n");
        IOException io = assertThrows(IOException.class,
                () -> new NbdFixture(TlsSettings.of(TlsSettings.Mode.ON, bad)).close());
        assertTrue(io.getMessage().contains("encrypted private key"), io.getMessage());
        // The traditional OpenSSL encryption (openssl rsa -aes256 -traditional): a legacy header
        // in an RSA block. It was "not an RSA, EC or EdDSA key the JDK can read" before.
        Files.writeString(bad.resolve("server-key.pem"), "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                + "DEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        io = assertThrows(IOException.class, () -> new NbdFixture(TlsSettings.of(TlsSettings.Mode.ON, bad)).close());
        assertTrue(io.getMessage().contains("encrypted private key"), io.getMessage());
        // The RSA certificate beside a key that is not its own: an EC key, and another RSA key.
        for (Path otherKey : List.of(pki.allowedClient.resolve("client-key.pem"), pki.otherClient.resolve("client-key.pem"))) {
            Path mismatch = Files.createDirectories(dir.resolve("mismatch-" + otherKey.getParent().getFileName()));
            Files.copy(pki.server.resolve("server-cert.pem"), mismatch.resolve("server-cert.pem"));
            Files.copy(otherKey, mismatch.resolve("server-key.pem"));
            IOException m = assertThrows(IOException.class,
                    () -> new NbdFixture(TlsSettings.of(TlsSettings.Mode.ON, mismatch)).close());
            assertTrue(m.getMessage().contains("is not the key of the certificate in"), m.getMessage());
        }
        // The three PEM key forms load: PKCS#1 (server), SEC1 (allowed client), PKCS#8 (other client).
        for (Path keyDir : List.of(pki.allowedClient, pki.otherClient)) {
            Path d = Files.createDirectories(dir.resolve("k-" + keyDir.getFileName()));
            Files.copy(keyDir.resolve("client-cert.pem"), d.resolve("server-cert.pem"));
            Files.copy(keyDir.resolve("client-key.pem"), d.resolve("server-key.pem"));
            new NbdFixture(TlsSettings.of(TlsSettings.Mode.ON, d)).close();
        }
    }

    @Test
    void fuzzedTlsRecordsAfterStarttls() throws Exception {
        Path img = image(dir, "img", SIZE, 10);
        try (NbdFixture f = new NbdFixture(require())) {
            f.server.addExport(ExportSpec.of("disk", img));
            SSLContext client = javaClient(pki.anonymousClient);
            roundTrip(f, client, (byte) 8); // warm up
            f.server.setHandshakeTimeout(Duration.ofSeconds(1)); // records cut short wait for the rest until then
            int fdsBefore = settledFds(f);
            Random rnd = new Random(20261202);
            for (int i = 0; i < 200; i++) {
                try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                    c.greet(3);
                    c.option(5, new byte[0]);
                    assertEquals(REP_ACK, c.optReply().type());
                    c.out.write(tlsRecords(rnd));
                    c.out.flush();
                    if (rnd.nextBoolean()) {
                        c.socket.shutdownOutput();
                    }
                    assertTrue(c.closedByServer(), "case " + i);
                } catch (IOException e) {
                    // the server reset the connection before we finished writing: also a close
                }
            }
            f.server.setHandshakeTimeout(Duration.ofMinutes(1));
            roundTrip(f, client, (byte) 9);
            assertSettled(f, fdsBefore);
        }
    }

    /** One to four records: random or plausible content types and versions, lengths up to past the limit, some cut short. */
    private static byte[] tlsRecords(Random rnd) {
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        int n = 1 + rnd.nextInt(4);
        for (int r = 0; r < n; r++) {
            int type = rnd.nextInt(4) == 0 ? rnd.nextInt(256) : 20 + rnd.nextInt(4);
            int version = rnd.nextInt(4) == 0 ? rnd.nextInt(65536) : 0x0301 + rnd.nextInt(3);
            int len = switch (rnd.nextInt(4)) {
                case 0 -> rnd.nextInt(16);
                case 1 -> rnd.nextInt(1 << 14);
                case 2 -> (1 << 14) + rnd.nextInt(4096); // over the record limit
                default -> rnd.nextInt(600);
            };
            byte[] body = new byte[rnd.nextInt(5) == 0 ? rnd.nextInt(len + 1) : len];
            rnd.nextBytes(body);
            if (type == 22 && body.length > 4 && rnd.nextBoolean()) {
                body[0] = 1; // ClientHello
                body[1] = 0;
                body[2] = (byte) ((body.length - 4) >> 8);
                body[3] = (byte) (body.length - 4);
            }
            o.write(type);
            o.write(version >> 8);
            o.write(version);
            o.write(len >> 8);
            o.write(len);
            o.writeBytes(body);
        }
        return o.toByteArray();
    }
}
