package org.aiolos.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import javax.inject.Inject;
import org.apache.felix.service.command.CommandProcessor;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * NBD over TLS and over Unix sockets in Felix, configured through Config Admin and the
 * {@code nbd:export} command: certificates made here with openssl, real clients (nbdinfo,
 * nbdcopy, qemu-img) with and without an allowed client certificate, and refusals named by
 * their field.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class NbdTlsIT {
    private static final int MIB = 1 << 20;

    @Inject
    BundleContext bc;
    @Inject
    ConfigurationAdmin cm;
    @Inject
    CommandProcessor gogo;

    private NbdRig rig;
    private Path dir;
    /** The certificates: a directory of directories, which the rig's flat clean-up does not remove. */
    private Path pkiRoot;

    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        return Setup.container();
    }

    @Before
    public void tools() throws IOException {
        Tools.requireAll(List.of("qemu-img", "qemu-io", "nbdinfo", "nbdcopy", "openssl"));
        rig = new NbdRig(bc, cm, gogo, "nbd-tls-it");
        dir = rig.dir;
    }

    @After
    public void cleanUp() throws Exception {
        rig.close();
        if (pkiRoot != null) {
            try (var files = Files.walk(pkiRoot)) {
                for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(f);
                }
            }
        }
    }

    private void openssl(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "openssl";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Tools.run(60, cmd);
    }

    /** A CA; a server certificate for localhost/127.0.0.1; clients "allowed" and "other" with their dirs. */
    private Path certificates() throws Exception {
        pkiRoot = Files.createTempDirectory("nbd-tls-it-pki");
        Path dir = pkiRoot;
        Path cnf = Files.writeString(dir.resolve("req.cnf"), """
                [req]
                distinguished_name = dn
                [dn]
                [ca]
                basicConstraints = critical,CA:TRUE
                keyUsage = critical,keyCertSign,cRLSign
                [server]
                basicConstraints = CA:FALSE
                extendedKeyUsage = serverAuth
                subjectAltName = DNS:localhost,IP:127.0.0.1
                [client]
                basicConstraints = CA:FALSE
                extendedKeyUsage = clientAuth
                """);
        Path pki = Files.createDirectories(dir.resolve("pki"));
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", pki + "/ca-key.pem");
        openssl("req", "-x509", "-new", "-key", pki + "/ca-key.pem", "-subj", "/CN=IT CA", "-days", "5", "-config",
                cnf.toString(), "-extensions", "ca", "-out", pki + "/ca-cert.pem");
        String[][] leaves = {{"server", "/CN=localhost", "server"}, {"allowed", "/O=IT/CN=allowed", "client"},
            {"other", "/O=IT/CN=other", "client"}};
        for (String[] l : leaves) {
            Path d = Files.createDirectories(dir.resolve(l[0]));
            String prefix = l[2].equals("server") ? "server" : "client";
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                    d + "/" + prefix + "-key.pem");
            openssl("req", "-new", "-key", d + "/" + prefix + "-key.pem", "-subj", l[1], "-config", cnf.toString(),
                    "-out", d + "/req.csr");
            openssl("x509", "-req", "-in", d + "/req.csr", "-CA", pki + "/ca-cert.pem", "-CAkey",
                    pki + "/ca-key.pem", "-CAcreateserial", "-days", "5", "-extfile", cnf.toString(), "-extensions",
                    l[2], "-out", d + "/" + prefix + "-cert.pem");
            Files.copy(pki.resolve("ca-cert.pem"), d.resolve("ca-cert.pem"));
        }
        return dir;
    }

    @Test
    public void tlsExportFromConfigAdminServesAllowedClientsOnly() throws Exception {
        Path root = certificates();
        rig.iothread("nbd-tls");
        Path disk = rig.image("tls.img", 16, true);
        int port = NbdRig.freePort();
        rig.export("secure", disk, "iothread", "nbd-tls", "port", port, "tls", "require", "tls-creds",
                root.resolve("server").toString(), "tls-verify-peer", true, "tls-allowed-clients", "CN=allowed,O=IT");
        rig.awaitServing("secure");
        String allowed = "nbds://127.0.0.1:" + port + "/secure?tls-certificates=" + root.resolve("allowed");
        assertTrue(Tools.run(30, "nbdinfo", allowed).contains("export-size: " + 16 * MIB));
        Path copy = dir.resolve("copy.img");
        Tools.run(60, "nbdcopy", allowed, copy.toString());
        assertArrayEquals(Files.readAllBytes(disk), Files.readAllBytes(copy));
        String creds = "tls-creds-x509,id=tls0,endpoint=client,dir=" + root.resolve("allowed");
        String info = Tools.run(30, "qemu-img", "info", "--object", creds, "--image-opts",
                "driver=nbd,host=127.0.0.1,port=" + port + ",export=secure,tls-creds=tls0");
        assertTrue(info, info.contains("virtual size: 16 MiB"));

        Tools.Result other = Tools.exec(30, "nbdinfo", "nbds://127.0.0.1:" + port + "/secure?tls-certificates="
                + root.resolve("other"));
        assertTrue(other.output(), other.exit() != 0 && !other.output().contains("export-size"));
        Tools.Result plain = Tools.exec(30, "nbdinfo", "--list", NbdRig.uri(port, ""));
        assertTrue(plain.output(), plain.exit() != 0 && !plain.output().contains("secure"));
        assertTrue("the allowed client is still served",
                Tools.run(30, "nbdinfo", allowed).contains("export-size: " + 16 * MIB));

        // Each export on the listener names its own clients: 'audit' serves the other client only.
        org.osgi.service.cm.Configuration audit = rig.export("audit", disk, "iothread", "nbd-tls", "port", port, "read-only", true, "tls", "require",
                "tls-creds", root.resolve("server").toString(), "tls-verify-peer", true, "tls-allowed-clients",
                "CN=other,O=IT");
        rig.awaitServing("audit");
        String auditByOther = "nbds://127.0.0.1:" + port + "/audit?tls-certificates=" + root.resolve("other");
        assertTrue(Tools.run(30, "nbdinfo", auditByOther).contains("export-size: " + 16 * MIB));
        Tools.Result auditByAllowed = Tools.exec(30, "nbdinfo", "nbds://127.0.0.1:" + port
                + "/audit?tls-certificates=" + root.resolve("allowed"));
        assertTrue(auditByAllowed.output(), auditByAllowed.exit() != 0
                && !auditByAllowed.output().contains("export-size"));
        String listed = Tools.run(30, "nbdinfo", "--list", "nbds://127.0.0.1:" + port + "/?tls-certificates="
                + root.resolve("allowed"));
        assertTrue(listed, listed.contains("secure") && !listed.contains("audit"));
        audit.delete();
        rig.deleted(audit);

        // A listener's exports agree on TLS: a plaintext export on the same port is refused, naming the field.
        String out = Gogo.run(gogo, "nbd:export plain " + disk + " iothread=nbd-tls read-only=true port=" + port);
        assertTrue(out, out.contains("plain: configuration rejected, nothing stored: tls: 127.0.0.1:" + port + " is served with"
                + " tls=require"));
        out = Gogo.run(gogo, "nbd:export nocreds " + disk + " iothread=nbd-tls read-only=true tls=on port="
                + NbdRig.freePort());
        assertTrue(out, out.contains("nocreds: configuration rejected, nothing stored: tls-creds: tls=on needs a"
                + " credentials directory"));
        Gogo.run(gogo, "nbd:close plain");
        Gogo.run(gogo, "nbd:close nocreds");
    }

    /**
     * Credentials not there yet (a directory made later, a mount that comes up after the
     * service) are tried again every 2 s like a taken port, and the export is served once they
     * appear, without an edit. They were a configuration error before, served only after the
     * .cfg changed.
     */
    @Test
    public void anExportWhoseCredentialsAppearLaterIsServed() throws Exception {
        Path root = certificates();
        rig.iothread("nbd-tls-late");
        Path disk = rig.image("late-tls.img", 4, false);
        int port = NbdRig.freePort();
        Path later = root.resolve("creds-later"); // under the PKI root, which is removed whole
        org.osgi.service.cm.Configuration c = rig.export("latecreds", disk, "iothread", "nbd-tls-late", "port", port,
                "tls", "require", "tls-creds", later.toString());
        Await.until(() -> "refused, tried again; nbd:list:\n" + nbdList(), 10_000, () -> {
            String l = nbdList();
            return l.contains("latecreds (" + c.getPid() + ")  rejected: ") && l.contains("tls-creds " + later
                    + " is not a directory") && l.contains("(tried again every 2 s)");
        });
        Files.createDirectories(later);
        for (String f : List.of("server-cert.pem", "server-key.pem", "ca-cert.pem")) {
            Files.copy(root.resolve("server").resolve(f), later.resolve(f));
        }
        rig.awaitServing("latecreds");
        String uri = "nbds://127.0.0.1:" + port + "/latecreds?tls-certificates=" + root.resolve("allowed");
        assertTrue(Tools.run(30, "nbdinfo", uri).contains("export-size: " + 4 * MIB));
        c.delete();
        rig.deleted(c);
    }

    private String nbdList() {
        try {
            return Gogo.run(gogo, "nbd:list");
        } catch (Exception e) {
            throw new AssertionError("nbd:list failed", e);
        }
    }

    @Test
    public void unixSocketExportFromTheShell() throws Exception {
        Path root = certificates();
        rig.iothread("nbd-unix");
        Path disk = rig.image("unix.img", 8, true);
        Path sock = dir.resolve("nbd.sock");
        String out = Gogo.run(gogo, "nbd:export u " + disk + " iothread=nbd-unix socket=" + sock
                + " socket-mode=0660");
        String uri = "nbd+unix:///u?socket=" + sock;
        assertTrue(out, out.contains("u: created, serving " + uri + " on IOThread 'nbd-unix'"));
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
        assertTrue(Tools.run(30, "nbdinfo", uri).contains("export-size: " + 8 * MIB));
        String io = Tools.run(30, "qemu-io", "-f", "raw", "-c", "write -P 0x77 1M 1M", "-c", "read -P 0x77 1M 1M",
                uri);
        assertFalse(io, io.contains("Pattern verification failed"));
        assertTrue(Gogo.run(gogo, "nbd:list").contains("unix:" + sock));

        // The same socket with TLS: a new configuration, and the shell says how to reach it.
        out = Gogo.run(gogo, "nbd:export u " + disk + " socket=" + sock + " tls=require tls-creds="
                + root.resolve("server"));
        assertTrue(out, out.contains("u: applied, serving nbds+unix:///u?socket=" + sock));
        assertTrue(Tools.run(30, "nbdinfo", "nbds+unix:///u?socket=" + sock + "&tls-certificates="
                + root.resolve("allowed")).contains("export-size: " + 8 * MIB));
        assertTrue(Tools.exec(30, "nbdinfo", uri).exit() != 0);

        assertTrue(Gogo.run(gogo, "nbd:close u").contains("u: configuration deleted; export closed"));
        assertFalse("the socket file goes with the listener", Files.exists(sock));
    }
}
