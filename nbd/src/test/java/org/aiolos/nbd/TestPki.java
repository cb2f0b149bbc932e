package org.aiolos.nbd;

import static org.aiolos.nbd.NbdFixture.ok;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Test certificates made with the openssl command line, in the directory layout QEMU's
 * tls-creds-x509 and libnbd's tls-certificates use: a CA, a server (PKCS#1 RSA key, SANs
 * localhost and 127.0.0.1), an allowed client (SEC1 EC key), a client with another DN
 * from the same CA (PKCS#8 key), a client from another CA, and an expired server.
 */
final class TestPki {
    static final String ALLOWED_DN = "CN=allowed-client,O=Aiolos Test";
    static final String OTHER_DN = "CN=other-client,O=Aiolos Test";

    /** server-cert.pem, server-key.pem, ca-cert.pem. */
    final Path server;
    /** The same CA, a server certificate that expired in 2020. */
    final Path expiredServer;
    /** ca-cert.pem only: a client that presents no certificate. */
    final Path anonymousClient;
    /** client-cert.pem (ALLOWED_DN), client-key.pem, ca-cert.pem. */
    final Path allowedClient;
    /** client-cert.pem (OTHER_DN), client-key.pem, ca-cert.pem. */
    final Path otherClient;
    /** A client certificate from a CA the server does not know (its ca-cert.pem is the real CA). */
    final Path foreignClient;

    private final Path dir;

    TestPki(Path dir) throws IOException {
        this.dir = dir;
        Files.writeString(dir.resolve("req.cnf"), """
                [req]
                distinguished_name = dn
                [dn]
                [ca]
                basicConstraints = critical,CA:TRUE
                keyUsage = critical,keyCertSign,cRLSign
                subjectKeyIdentifier = hash
                [server]
                basicConstraints = CA:FALSE
                keyUsage = critical,digitalSignature,keyEncipherment
                extendedKeyUsage = serverAuth
                subjectAltName = DNS:localhost,IP:127.0.0.1
                [client]
                basicConstraints = CA:FALSE
                keyUsage = critical,digitalSignature,keyEncipherment
                extendedKeyUsage = clientAuth
                """);
        Path ca = ca("ca", "/CN=Aiolos Test CA");
        Path foreignCa = ca("foreign-ca", "/CN=Somebody Else CA");

        server = Files.createDirectories(dir.resolve("server"));
        ok(60, "openssl", "genrsa", "-traditional", "-out", server.resolve("server-key.pem").toString(), "2048");
        sign(ca, server.resolve("server-key.pem"), "/CN=localhost", "server", server.resolve("server-cert.pem"));
        copyCa(ca, server);

        expiredServer = Files.createDirectories(dir.resolve("expired"));
        Files.copy(server.resolve("server-key.pem"), expiredServer.resolve("server-key.pem"));
        expired(ca, expiredServer.resolve("server-key.pem"), expiredServer.resolve("server-cert.pem"));
        copyCa(ca, expiredServer);

        anonymousClient = Files.createDirectories(dir.resolve("anonymous"));
        copyCa(ca, anonymousClient);

        allowedClient = Files.createDirectories(dir.resolve("allowed"));
        ok(60, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
                allowedClient.resolve("client-key.pem").toString());
        sign(ca, allowedClient.resolve("client-key.pem"), "/O=Aiolos Test/CN=allowed-client", "client",
                allowedClient.resolve("client-cert.pem"));
        copyCa(ca, allowedClient);

        otherClient = Files.createDirectories(dir.resolve("other"));
        ok(60, "openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                otherClient.resolve("client-key.pem").toString());
        sign(ca, otherClient.resolve("client-key.pem"), "/O=Aiolos Test/CN=other-client", "client",
                otherClient.resolve("client-cert.pem"));
        copyCa(ca, otherClient);

        foreignClient = Files.createDirectories(dir.resolve("foreign"));
        Files.copy(allowedClient.resolve("client-key.pem"), foreignClient.resolve("client-key.pem"));
        sign(foreignCa, foreignClient.resolve("client-key.pem"), "/O=Aiolos Test/CN=allowed-client", "client",
                foreignClient.resolve("client-cert.pem"));
        copyCa(ca, foreignClient);
    }

    private Path ca(String name, String subject) {
        Path d = dir.resolve(name);
        try {
            Files.createDirectories(d);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ok(60, "openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                d.resolve("ca-key.pem").toString());
        ok(60, "openssl", "req", "-x509", "-new", "-key", d.resolve("ca-key.pem").toString(), "-subj", subject,
                "-days", "30", "-config", dir.resolve("req.cnf").toString(), "-extensions", "ca", "-out",
                d.resolve("ca-cert.pem").toString());
        return d;
    }

    private void sign(Path ca, Path key, String subject, String profile, Path out) {
        Path csr = dir.resolve(out.getParent().getFileName() + ".csr");
        ok(60, "openssl", "req", "-new", "-key", key.toString(), "-subj", subject, "-config",
                dir.resolve("req.cnf").toString(), "-out", csr.toString());
        ok(60, "openssl", "x509", "-req", "-in", csr.toString(), "-CA", ca.resolve("ca-cert.pem").toString(),
                "-CAkey", ca.resolve("ca-key.pem").toString(), "-CAcreateserial", "-days", "30", "-sha256",
                "-extfile", dir.resolve("req.cnf").toString(), "-extensions", profile, "-out", out.toString());
    }

    /** A server certificate valid only in January 2020, through `openssl ca` (x509 -req cannot backdate). */
    private void expired(Path ca, Path key, Path out) throws IOException {
        Path db = Files.createDirectories(dir.resolve("cadb"));
        Files.writeString(db.resolve("index.txt"), "");
        Files.writeString(db.resolve("serial"), "1000\n");
        Files.writeString(db.resolve("ca.cnf"), """
                [ca]
                default_ca = own
                [own]
                database = %1$s/index.txt
                new_certs_dir = %1$s
                serial = %1$s/serial
                default_md = sha256
                policy = any
                unique_subject = no
                [any]
                commonName = supplied
                [server]
                basicConstraints = CA:FALSE
                keyUsage = critical,digitalSignature,keyEncipherment
                extendedKeyUsage = serverAuth
                subjectAltName = DNS:localhost,IP:127.0.0.1
                """.formatted(db));
        Path csr = dir.resolve("expired.csr");
        ok(60, "openssl", "req", "-new", "-key", key.toString(), "-subj", "/CN=localhost", "-config",
                dir.resolve("req.cnf").toString(), "-out", csr.toString());
        ok(60, "openssl", "ca", "-batch", "-notext", "-config", db.resolve("ca.cnf").toString(), "-cert",
                ca.resolve("ca-cert.pem").toString(), "-keyfile", ca.resolve("ca-key.pem").toString(), "-in",
                csr.toString(), "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-extensions",
                "server", "-out", out.toString());
    }

    private static void copyCa(Path ca, Path into) throws IOException {
        Files.copy(ca.resolve("ca-cert.pem"), into.resolve("ca-cert.pem"), StandardCopyOption.REPLACE_EXISTING);
    }
}
