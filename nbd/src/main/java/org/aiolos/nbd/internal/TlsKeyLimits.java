package org.aiolos.nbd.internal;

import java.security.Security;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * When a TLS 1.3 session asks its client for new keys itself, before the JDK's own key
 * limit ({@code jdk.tls.keyLimits}, AES-GCM and ChaCha20-Poly1305 at 2^37 bytes by
 * default) is reached on the read side.
 *
 * <p>Why: once the read key is at its limit, the JDK's {@code SSLEngine} sends a
 * KeyUpdate asking for new keys after <em>every</em> record it reads until the client's
 * answer arrives (JDK-8329548), and every record already in flight at that moment
 * (pipelined requests, socket buffers: thousands of records) draws one. GnuTLS, which
 * qemu-img, qemu-io, nbdcopy and every libnbd client use, accepts at most 8 KeyUpdates a
 * second ({@code lib/tls13/key_update.c}) and ends the session at the ninth: a TLS export
 * would drop a client after 128 GiB of writes. Asking once at half the limit leaves the
 * client the other half to answer in, so the JDK's limit is never reached.
 *
 * <p>The limits are read once, as the JDK reads them (its {@code SSLCipher} class
 * initialisation): entries {@code "ALGORITHM KeyUpdate N"} or {@code "... 2^K"}, separated
 * by commas; others are ignored as the JDK ignores them.
 */
final class TlsKeyLimits {
    /** Upper-case cipher transformation (as the JDK names it) to its KeyUpdate limit in bytes. */
    private static final Map<String, Long> LIMITS = parse(Security.getProperty("jdk.tls.keyLimits"));

    private TlsKeyLimits() {
    }

    /**
     * Bytes read under one key after which the session asks the client for new keys, or
     * {@link Long#MAX_VALUE} for never (TLS 1.2, which has no KeyUpdate and no JDK key
     * limit; a suite without a limit).
     */
    static long rekeyAfter(String protocol, String cipherSuite) {
        if (!"TLSv1.3".equals(protocol)) {
            return Long.MAX_VALUE;
        }
        Long limit = LIMITS.get(transformation(cipherSuite));
        return limit == null ? Long.MAX_VALUE : Math.max(1, limit / 2);
    }

    /** The JDK's cipher transformation of a TLS 1.3 suite, as {@code jdk.tls.keyLimits} names it. */
    static String transformation(String cipherSuite) {
        if (cipherSuite.contains("CHACHA20_POLY1305")) {
            return "CHACHA20-POLY1305";
        }
        return cipherSuite.contains("_GCM_") ? "AES/GCM/NOPADDING" : cipherSuite;
    }

    /** The KeyUpdate limits of a {@code jdk.tls.keyLimits} value (null: none), by upper-case transformation. */
    static Map<String, Long> parse(String property) {
        Map<String, Long> limits = new HashMap<>();
        if (property == null) {
            return limits;
        }
        for (String entry : property.split(",")) {
            // Split on single spaces and look for the action within the second word, as the
            // JDK does: an entry it would not read must not be read here either.
            String[] v = entry.trim().toUpperCase(Locale.ENGLISH).split(" ");
            if (v.length < 3 || !v[1].contains("KEYUPDATE")) {
                continue;
            }
            try {
                int caret = v[2].indexOf('^');
                int exponent = caret >= 0 ? Integer.parseInt(v[2].substring(caret + 1)) : -1;
                long size = caret >= 0 ? (exponent >= 0 && exponent <= 62 ? 1L << exponent : 0)
                        : Long.parseLong(v[2]);
                if (size >= 1 && size <= 1L << 62) {
                    limits.put(v[0], size);
                }
            } catch (NumberFormatException e) {
                // the JDK skips it too
            }
        }
        return limits;
    }
}
