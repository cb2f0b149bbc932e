package org.aiolos.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TlsKeyLimitsTest {
    @Test
    void readsTheJdksDefaultValue() {
        Map<String, Long> limits = TlsKeyLimits.parse(
                "AES/GCM/NoPadding KeyUpdate 2^37, ChaCha20-Poly1305 KeyUpdate 2^37");
        assertEquals(Map.of("AES/GCM/NOPADDING", 1L << 37, "CHACHA20-POLY1305", 1L << 37), limits);
    }

    @Test
    void skipsWhatTheJdkSkips() {
        Map<String, Long> limits = TlsKeyLimits.parse(
                "AES/GCM/NoPadding KeyUpdate 1000,  chacha20-poly1305 keyupdate 2^20 , V  KeyUpdate 7,"
                        + " AES/GCM/NoPadding Close 5, X KeyUpdate two, Y KeyUpdate 0, Z KeyUpdate 2^63, W KeyUpdate");
        assertEquals(Map.of("AES/GCM/NOPADDING", 1000L, "CHACHA20-POLY1305", 1L << 20), limits);
        assertTrue(TlsKeyLimits.parse(null).isEmpty());
        assertTrue(TlsKeyLimits.parse("").isEmpty());
    }

    @Test
    void asksAtHalfTheLimitOfTheSessionsCipherInTls13Only() {
        Map<String, Long> jdk = TlsKeyLimits.parse(java.security.Security.getProperty("jdk.tls.keyLimits"));
        long gcm = jdk.containsKey("AES/GCM/NOPADDING") ? jdk.get("AES/GCM/NOPADDING") / 2 : Long.MAX_VALUE;
        long chacha = jdk.containsKey("CHACHA20-POLY1305") ? jdk.get("CHACHA20-POLY1305") / 2 : Long.MAX_VALUE;
        assertEquals(gcm, TlsKeyLimits.rekeyAfter("TLSv1.3", "TLS_AES_256_GCM_SHA384"));
        assertEquals(gcm, TlsKeyLimits.rekeyAfter("TLSv1.3", "TLS_AES_128_GCM_SHA256"));
        assertEquals(chacha, TlsKeyLimits.rekeyAfter("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256"));
        assertEquals(Long.MAX_VALUE, TlsKeyLimits.rekeyAfter("TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"));
        assertEquals(Long.MAX_VALUE, TlsKeyLimits.rekeyAfter("TLSv1.3", "TLS_AES_128_CCM_SHA256"));
    }
}
