package org.aiolos.nbd.internal;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.Date;
import java.util.List;
import java.util.Set;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.security.auth.x500.X500Principal;
import org.aiolos.nbd.TlsSettings;

/**
 * A listener's TLS: its settings and the credentials read from their directory (QEMU's
 * {@code QCryptoTLSCredsX509} in {@code crypto/tlscredsx509.c}). {@link #newEngine()}
 * notices when the files have changed and reads them again, so a renewed certificate is
 * used by the next connection while the ones already up keep their session; files that
 * do not load (say, half-written) leave the previous credentials in use, with one warning
 * per change.
 *
 * <p>The allow-list of client names is checked in the handshake by the trust manager,
 * after the CA check: a refused client gets a TLS alert, and the connection logs its
 * name once.
 */
public final class ServerTls {
    /** Keywords for attributes RFC 2253 has none for, so a logged name reads as openssl writes it. */
    private static final java.util.Map<String, String> DN_KEYWORDS = java.util.Map.of("1.2.840.113549.1.9.1", "emailAddress");

    /**
     * A certificate name for messages: RFC 2253 as the certificate writes it, with
     * {@code emailAddress=} where RFC 2253 alone gives {@code 1.2.840.113549.1.9.1=#16...}.
     */
    static String displayName(X500Principal p) {
        return p.getName(X500Principal.RFC2253, DN_KEYWORDS);
    }

    private static final System.Logger LOG = System.getLogger("org.aiolos.nbd");
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    /** The handshake refused a client certificate whose subject is not on the allow-list. */
    static final class ClientNotAllowed extends CertificateException {
        final String dn;

        ClientNotAllowed(String dn) {
            super("client certificate " + dn + " is not on the allow-list");
            this.dn = dn;
        }
    }

    private record Loaded(SSLContext context, List<Stamp> stamps) {
    }

    private record Stamp(Path file, long modified, long size) {
        static Stamp of(Path file) throws IOException {
            return new Stamp(file, Files.getLastModifiedTime(file).toMillis(), Files.size(file));
        }
    }

    private final TlsSettings settings;
    /** Written by whichever thread reloads (a pool worker); read by the next. */
    private volatile Loaded current;
    /** The stamps of a change that failed to load, so it is reported once. */
    private volatile List<Stamp> failedStamps;
    /** Since when a certificate or key file has been missing (0: none is); guarded by this. */
    private volatile long missingSinceNs;
    private boolean missingReported;
    private static final long MISSING_GRACE_MS = 2_000;

    private ServerTls(TlsSettings settings, Loaded first) {
        this.settings = settings;
        this.current = first;
    }

    /**
     * Reads the credentials now, so a configuration with unreadable files is refused at
     * once; null for {@link TlsSettings.Mode#OFF}.
     *
     * @throws IOException starting {@code "tls-creds "}, naming the file and what is wrong with it
     */
    public static ServerTls open(TlsSettings settings) throws IOException {
        if (settings.mode() == TlsSettings.Mode.OFF) {
            return null;
        }
        try {
            return new ServerTls(settings, load(settings));
        } catch (IOException e) {
            throw new IOException("tls-creds " + e.getMessage(), e);
        }
    }

    TlsSettings settings() {
        return settings;
    }

    /**
     * Every option but STARTTLS and ABORT is refused before the upgrade: with
     * {@code tls=require}, and with a listener-wide allow-list, which admits certificate
     * holders only (a client without TLS has none to show, and with {@code tls=on} it would
     * otherwise be served past the list).
     */
    boolean required() {
        return settings.mode() == TlsSettings.Mode.REQUIRE || !settings.allowedClients().isEmpty();
    }

    /**
     * A server-side engine for one connection, on the credentials as the files are now.
     * Reads files: call it on a pool thread.
     */
    SSLEngine newEngine() {
        Loaded l = current;
        List<Stamp> now = stamps(settings);
        if (now == null) {
            missing();
        } else {
            if (missingSinceNs != 0) {
                present();
            }
            if (!now.equals(l.stamps()) && !now.equals(failedStamps)) {
                l = reload(now);
            }
        }
        SSLEngine engine = l.context().createSSLEngine();
        engine.setUseClientMode(false);
        engine.setEnabledProtocols(PROTOCOLS);
        engine.setNeedClientAuth(settings.verifyPeer());
        return engine;
    }

    /**
     * The certificate or key is not there. For an instant that is a replacement under way
     * (removed, then written); still gone at a handshake {@value #MISSING_GRACE_MS} ms later,
     * it is said once, since the next start would fail on it. Either way the credentials
     * loaded before stay in use.
     */
    private synchronized void missing() {
        long nowNs = System.nanoTime();
        if (missingSinceNs == 0) {
            missingSinceNs = nowNs;
        } else if (!missingReported && nowNs - missingSinceNs >= MISSING_GRACE_MS * 1_000_000L) {
            missingReported = true;
            List<String> gone = new java.util.ArrayList<>();
            for (String f : List.of(TlsSettings.SERVER_CERT, TlsSettings.SERVER_KEY)) {
                if (!Files.exists(settings.credentials().resolve(f))) {
                    gone.add(f);
                }
            }
            LOG.log(System.Logger.Level.WARNING, "NBD TLS: " + String.join(" and ", gone) + " missing from "
                    + settings.credentials() + "; still using the credentials loaded before, until new files"
                    + " are there (a restart would fail now)");
        }
    }

    /**
     * Reads the changed files once, however many handshakes notice the change at the same
     * time (a burst of clients after a renewal): the others wait and take its result.
     */
    private synchronized void present() {
        missingSinceNs = 0;
        missingReported = false;
    }

    private synchronized Loaded reload(List<Stamp> seen) {
        if (seen.equals(current.stamps()) || seen.equals(failedStamps)) {
            return current; // another handshake has read them meanwhile
        }
        try {
            Loaded l = load(settings);
            current = l;
            LOG.log(System.Logger.Level.INFO, "NBD TLS: credentials in " + settings.credentials() + " reloaded");
            return l;
        } catch (IOException | RuntimeException e) {
            failedStamps = seen;
            LOG.log(System.Logger.Level.WARNING, "NBD TLS: credentials in " + settings.credentials()
                    + " changed but do not load (" + why(e) + "); still using the previous ones");
            return current;
        }
    }

    /**
     * What a load failure says: an IOException of the file API carries only the path
     * (AccessDeniedException, NoSuchFileException), so its kind is said too.
     */
    private static String why(Exception e) {
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() == null) {
            String kind = f instanceof java.nio.file.AccessDeniedException ? "permission denied"
                    : f instanceof java.nio.file.NoSuchFileException ? "no such file" : f.getClass().getSimpleName();
            return f.getFile() + ": " + kind;
        }
        return e.getMessage();
    }

    private static List<Stamp> stamps(TlsSettings s) {
        try {
            Path d = s.credentials();
            return List.of(Stamp.of(d.resolve(TlsSettings.SERVER_CERT)), Stamp.of(d.resolve(TlsSettings.SERVER_KEY)),
                    Files.exists(d.resolve(TlsSettings.CA_CERT)) ? Stamp.of(d.resolve(TlsSettings.CA_CERT))
                            : new Stamp(d.resolve(TlsSettings.CA_CERT), -1, -1));
        } catch (IOException e) {
            return null; // a file is missing for the moment (being replaced): keep what we have
        }
    }

    private static Loaded load(TlsSettings s) throws IOException {
        Path dir = s.credentials();
        // Checked when the listener opens, not in the settings: credentials not there yet (a
        // directory made later, a mount that comes up after the service) are the
        // environment's state, and the export waits and tries again as for a taken port.
        if (!Files.isDirectory(dir)) {
            throw new IOException("tls-creds " + dir + " is not a directory");
        }
        for (String f : List.of(TlsSettings.SERVER_CERT, TlsSettings.SERVER_KEY)) { // the CA: below
            if (!Files.isReadable(dir.resolve(f))) {
                throw new IOException("tls-creds " + dir + " has no readable " + f);
            }
        }
        List<Stamp> stamps = stamps(s);
        List<X509Certificate> chain = Pem.certificates(dir.resolve(TlsSettings.SERVER_CERT));
        PrivateKey key = Pem.privateKey(dir.resolve(TlsSettings.SERVER_KEY));
        X509Certificate leaf = chain.get(0);
        checkPair(dir, leaf, key);
        if (leaf.getNotAfter().before(new Date())) {
            LOG.log(System.Logger.Level.WARNING, "NBD TLS: " + dir.resolve(TlsSettings.SERVER_CERT)
                    + " expired on " + leaf.getNotAfter() + "; clients will refuse it");
        }
        Path caFile = dir.resolve(TlsSettings.CA_CERT);
        // Checked here as well as in the settings, since a reload reads the directory again:
        // a verifying listener whose CA file went away would otherwise get no trust manager,
        // and the JDK's default trust store (cacerts) would judge its clients, without the
        // allow-list.
        if (s.verifyPeer() && !Files.isReadable(caFile)) {
            throw new IOException(caFile + " is missing, and verify-peer needs the CA that issues client certificates");
        }
        List<X509Certificate> cas = Files.exists(caFile) ? Pem.certificates(caFile) : List.of();
        try {
            KeyManager[] kms = {new ServerKeyManager(chain.toArray(new X509Certificate[0]), key)};
            TrustManager[] tms = null;
            if (!cas.isEmpty()) {
                KeyStore ts = KeyStore.getInstance("PKCS12");
                ts.load(null, null);
                for (int i = 0; i < cas.size(); i++) {
                    ts.setCertificateEntry("ca" + i, cas.get(i));
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
                tmf.init(ts);
                X509ExtendedTrustManager base = null;
                for (TrustManager tm : tmf.getTrustManagers()) {
                    if (tm instanceof X509ExtendedTrustManager x) {
                        base = x;
                    }
                }
                tms = new TrustManager[] {new AllowListTrustManager(base, s.allowedClients())};
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kms, tms, null);
            warmUp(ctx, leaf);
            return new Loaded(ctx, stamps);
        } catch (GeneralSecurityException e) {
            throw new IOException("NBD TLS: the credentials in " + dir + " cannot be used: " + e.getMessage(), e);
        }
    }

    /**
     * The key must be the one the certificate was issued for: a renewed certificate beside
     * the old key (or the reverse) would load and then fail every handshake, telling
     * clients only that the signature did not verify. Checked by signing with the key and
     * verifying with the certificate.
     *
     * @throws IOException naming both files
     */
    private static void checkPair(Path dir, X509Certificate leaf, PrivateKey key) throws IOException {
        String alg = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "RSASSA-PSS" -> "RSASSA-PSS";
            case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
            default -> null;
        };
        boolean matches = key.getAlgorithm().equals(leaf.getPublicKey().getAlgorithm());
        if (matches && alg != null) {
            try {
                byte[] probe = "aiolos key check".getBytes(StandardCharsets.US_ASCII);
                Signature sign = Signature.getInstance(alg);
                if (alg.equals("RSASSA-PSS")) {
                    sign.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
                }
                sign.initSign(key);
                sign.update(probe);
                byte[] signature = sign.sign();
                sign.initVerify(leaf.getPublicKey());
                sign.update(probe);
                matches = sign.verify(signature);
            } catch (GeneralSecurityException e) {
                matches = false;
            }
        }
        if (!matches) {
            throw new IOException(dir.resolve(TlsSettings.SERVER_KEY) + " is not the key of the certificate in "
                    + dir.resolve(TlsSettings.SERVER_CERT) + " (" + key.getAlgorithm() + " key, certificate for "
                    + displayName(leaf.getSubjectX500Principal()) + " with " + leaf.getPublicKey().getAlgorithm()
                    + " key)");
        }
    }

    /**
     * One handshake between two in-memory engines with these credentials, so the JDK's TLS
     * classes are loaded and initialised before the first client arrives: on a busy machine
     * a cold first handshake can outlast the handshake timeout. Best effort: a failure here
     * only means the first client pays for it.
     */
    private static void warmUp(SSLContext server, X509Certificate leaf) {
        try {
            KeyStore anchor = KeyStore.getInstance("PKCS12");
            anchor.load(null, null);
            anchor.setCertificateEntry("leaf", leaf);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(anchor);
            SSLContext clientCtx = SSLContext.getInstance("TLS");
            clientCtx.init(null, tmf.getTrustManagers(), null);
            SSLEngine c = clientCtx.createSSLEngine();
            c.setUseClientMode(true);
            c.setEnabledProtocols(PROTOCOLS);
            SSLEngine s = server.createSSLEngine();
            s.setUseClientMode(false);
            s.setEnabledProtocols(PROTOCOLS);
            int packet = Math.max(c.getSession().getPacketBufferSize(), s.getSession().getPacketBufferSize());
            int app = Math.max(c.getSession().getApplicationBufferSize(), s.getSession().getApplicationBufferSize());
            java.nio.ByteBuffer toServer = java.nio.ByteBuffer.allocate(4 * packet);
            java.nio.ByteBuffer toClient = java.nio.ByteBuffer.allocate(4 * packet);
            java.nio.ByteBuffer sink = java.nio.ByteBuffer.allocate(app);
            java.nio.ByteBuffer empty = java.nio.ByteBuffer.allocate(0);
            c.beginHandshake();
            s.beginHandshake();
            for (int i = 0; i < 200 && !(done(c) && done(s)); i++) {
                step(c, toClient, toServer, empty, sink);
                step(s, toServer, toClient, empty, sink);
            }
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "NBD TLS: warm-up handshake failed: " + e);
        }
    }

    private static boolean done(SSLEngine e) {
        var h = e.getHandshakeStatus();
        return h == javax.net.ssl.SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING
                || h == javax.net.ssl.SSLEngineResult.HandshakeStatus.FINISHED;
    }

    /** What {@code e} can do now: run its tasks, send into {@code out}, or take from {@code in}. */
    private static void step(SSLEngine e, java.nio.ByteBuffer in, java.nio.ByteBuffer out, java.nio.ByteBuffer empty,
            java.nio.ByteBuffer sink) throws IOException {
        for (Runnable t = e.getDelegatedTask(); t != null; t = e.getDelegatedTask()) {
            t.run();
        }
        switch (e.getHandshakeStatus()) {
            case NEED_WRAP -> e.wrap(empty, out);
            case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                in.flip();
                sink.clear();
                e.unwrap(in, sink);
                in.compact();
            }
            default -> {
            }
        }
    }

    /** The CA check, then the allow-list of subject names. */
    private static final class AllowListTrustManager extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager base;
        private final Set<String> allowed;

        AllowListTrustManager(X509ExtendedTrustManager base, Set<String> allowed) {
            this.base = base;
            this.allowed = allowed;
        }

        /** What a CA check needs from the caller. */
        private interface CaCheck {
            void run() throws CertificateException;
        }

        /**
         * The CA check, its refusal naming the certificate: the JDK's message ("PKIX path
         * validation failed: ... validity check failed") says why but not whose.
         */
        private static void trusted(X509Certificate[] chain, CaCheck check) throws CertificateException {
            try {
                check.run();
            } catch (CertificateException e) {
                String who = chain == null || chain.length == 0 ? "an empty client certificate chain"
                        : "client certificate '" + displayName(chain[0].getSubjectX500Principal()) + "' (issuer '"
                                + displayName(chain[0].getIssuerX500Principal()) + "')";
                throw new CertificateException(who + " refused: " + e.getMessage(), e);
            }
        }

        private void allow(X509Certificate[] chain) throws CertificateException {
            if (allowed.isEmpty()) {
                return;
            }
            String dn = chain[0].getSubjectX500Principal().getName(X500Principal.CANONICAL);
            if (!allowed.contains(dn)) {
                throw new ClientNotAllowed(displayName(chain[0].getSubjectX500Principal()));
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            trusted(chain, () -> base.checkClientTrusted(chain, authType, engine));
            allow(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            trusted(chain, () -> base.checkClientTrusted(chain, authType, socket));
            allow(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            trusted(chain, () -> base.checkClientTrusted(chain, authType));
            allow(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("an NBD server does not check server certificates");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("an NBD server does not check server certificates");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("an NBD server does not check server certificates");
        }

        /**
         * None named: the server then sends no {@code certificate_authorities} in its
         * certificate request, as a GnuTLS server (qemu-nbd, nbdkit) does not either. With
         * the list, GnuTLS clients (qemu, libnbd) in TLS 1.3 sent no certificate at all when
         * their key was RSA (measured: qemu-img and nbdinfo refused with "Empty client
         * certificate chain", the same client served by qemu-nbd); EC keys were sent either
         * way. The list is only a hint: the CA check above decides.
         */
        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
