package org.aiolos.nbd;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import javax.security.auth.x500.X500Principal;

/**
 * TLS on an NBD listener ({@code NBD_OPT_STARTTLS}, what {@code qemu-nbd --tls-creds} and
 * {@code nbdkit --tls} offer), TLS 1.3 and 1.2 only.
 *
 * @param mode {@link Mode#OFF}: STARTTLS is answered {@code NBD_REP_ERR_UNSUP};
 *     {@link Mode#ON}: clients may upgrade; {@link Mode#REQUIRE}: before the upgrade every
 *     option but STARTTLS and ABORT is refused with {@code NBD_REP_ERR_TLS_REQD}, so no
 *     export name or size leaks to a plaintext client
 * @param credentials a directory in the layout of QEMU's {@code tls-creds-x509}
 *     ({@code crypto/tlscredsx509.c}): {@code server-cert.pem} (the server's certificate,
 *     then any intermediates), {@code server-key.pem} (PKCS#8, PKCS#1 RSA or SEC1 EC, not
 *     encrypted) and {@code ca-cert.pem} (the CAs client certificates must chain to; needed
 *     with {@code verifyPeer}). Null with {@link Mode#OFF}: given there, it is refused
 *     rather than leaving the operator's listener plaintext. The directory and files are
 *     looked for when the listener opens (an {@code IOException} then), not here, so
 *     settings may name credentials that appear later. The files are read again when
 *     they change; connections already up keep their session
 * @param verifyPeer clients must present a certificate issued by a CA in {@code ca-cert.pem}
 *     (QEMU's {@code verify-peer=on})
 * @param allowedClients distinguished names of the client certificates accepted (QEMU's
 *     {@code --tls-authz} with a simple list); empty for any certificate the CA vouches
 *     for. Non-empty needs {@code verifyPeer}, and makes TLS required on the listener even
 *     with {@link Mode#ON}: a client without TLS has no certificate to check. Names are
 *     compared in RFC 2253 canonical form, so spacing and case of attribute names do not
 *     matter
 * @since 0.3.0
 */
public record TlsSettings(Mode mode, Path credentials, boolean verifyPeer, Set<String> allowedClients) {

    /** Whether and how a listener offers TLS. */
    public enum Mode {
        OFF, ON, REQUIRE;

        /**
         * {@code off}, {@code on} or {@code require}, any case.
         *
         * @throws IllegalArgumentException naming the value and the choices
         */
        public static Mode parse(String s) {
            if (s != null) {
                for (Mode m : values()) {
                    if (m.name().equalsIgnoreCase(s.trim())) {
                        return m;
                    }
                }
            }
            throw new IllegalArgumentException("tls must be off, on or require, got '" + s + "'");
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** No TLS: the listener answers STARTTLS with NBD_REP_ERR_UNSUP. */
    public static final TlsSettings DISABLED = new TlsSettings(Mode.OFF, null, false, Set.of());

    /** The file names inside {@link #credentials()}, as QEMU's tls-creds-x509 names them. */
    public static final String CA_CERT = "ca-cert.pem";
    public static final String SERVER_CERT = "server-cert.pem";
    public static final String SERVER_KEY = "server-key.pem";

    public TlsSettings {
        if (mode == null) {
            throw new IllegalArgumentException("tls mode must not be null");
        }
        allowedClients = allowedClients == null ? Set.of() : canonical(allowedClients);
        if (mode == Mode.OFF) {
            if (verifyPeer || !allowedClients.isEmpty()) {
                throw new IllegalArgumentException("verify-peer and allowed clients need tls=on or tls=require");
            }
            if (credentials != null) {
                // Credentials given and plaintext served would be the operator's surprise.
                throw new IllegalArgumentException("tls-creds " + credentials + " is given but tls is off, so the"
                        + " listener would serve plaintext; set tls=require (or on), or drop tls-creds");
            }
        } else {
            if (credentials == null) {
                throw new IllegalArgumentException("tls=" + mode + " needs a credentials directory (tls-creds) holding "
                        + SERVER_CERT + " and " + SERVER_KEY);
            }
            if (!allowedClients.isEmpty() && !verifyPeer) {
                throw new IllegalArgumentException("an allow-list of client DNs needs verify-peer");
            }
        }
    }

    /** TLS with the credentials in {@code dir}, without client certificates. */
    public static TlsSettings of(Mode mode, Path dir) {
        return new TlsSettings(mode, dir, false, Set.of());
    }

    /**
     * A distinguished name in the form {@link #allowedClients()} holds (RFC 2253 canonical).
     *
     * @throws IllegalArgumentException if {@code dn} is not a distinguished name
     */
    public static String canonicalDn(String dn) {
        if (dn != null && dn.isBlank()) {
            // X500Principal takes "" (the empty name), which no client certificate has.
            throw new IllegalArgumentException("an empty distinguished name matches no client certificate");
        }
        try {
            return new X500Principal(dn).getName(X500Principal.CANONICAL);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("'" + dn + "' is not a distinguished name (e.g. CN=client,O=Example)");
        }
    }

    static Set<String> canonical(Set<String> dns) {
        Set<String> out = new LinkedHashSet<>();
        for (String dn : dns) {
            out.add(canonicalDn(dn));
        }
        return Set.copyOf(out);
    }
}
