package org.aiolos.nbd.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Certificates and private keys from PEM files as {@code certtool} and {@code openssl}
 * write them: certificates ({@code CERTIFICATE}), and unencrypted keys in PKCS#8
 * ({@code PRIVATE KEY}), PKCS#1 ({@code RSA PRIVATE KEY}) or SEC1 ({@code EC PRIVATE KEY})
 * form. PKCS#1 and SEC1 keys are wrapped into PKCS#8 for the JDK's key factories.
 */
final class Pem {
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
        (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    private static final byte[] EC_PUBLIC_KEY_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02,
        0x01};

    private Pem() {
    }

    /** Every certificate in {@code file}, in order (the leaf first for a chain). */
    static List<X509Certificate> certificates(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        try {
            List<X509Certificate> out = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes))) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new IOException(file + " holds no certificate");
            }
            return out;
        } catch (CertificateException e) {
            throw new IOException(file + " is not a PEM certificate file: " + e.getMessage(), e);
        }
    }

    /** The one private key in {@code file}. */
    static PrivateKey privateKey(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        if (text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED")) {
            // PKCS#8 encrypted, or the traditional OpenSSL form (a legacy header in an RSA or
            // EC block), which would otherwise read as a key the JDK cannot decode.
            throw new IOException(file + " holds an encrypted private key; give the key unencrypted "
                    + "(openssl pkey -in KEY -out " + file.getFileName() + ")");
        }
        for (String type : new String[] {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"}) {
            byte[] der = block(text, type, file);
            if (der == null) {
                continue;
            }
            byte[] pkcs8 = switch (type) {
                case "RSA PRIVATE KEY" -> sequence(concat(new byte[] {0x02, 0x01, 0x00}, RSA_ALGORITHM,
                        tlv(0x04, der)));
                case "EC PRIVATE KEY" -> sequence(concat(new byte[] {0x02, 0x01, 0x00},
                        sequence(concat(EC_PUBLIC_KEY_OID, curveOf(der, file))), tlv(0x04, der)));
                default -> der;
            };
            return decode(pkcs8, type.equals("RSA PRIVATE KEY") ? new String[] {"RSA"}
                    : type.equals("EC PRIVATE KEY") ? new String[] {"EC"}
                    : new String[] {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS"}, file);
        }
        throw new IOException(file + " holds no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
    }

    private static PrivateKey decode(byte[] pkcs8, String[] algorithms, Path file) throws IOException {
        for (String alg : algorithms) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new IOException(file + ": the private key is not an RSA, EC or EdDSA key the JDK can read");
    }

    private static byte[] block(String text, String type, Path file) throws IOException {
        String begin = "-----BEGIN " + type + "-----";
        int b = text.indexOf(begin);
        if (b < 0) {
            return null;
        }
        String end = "-----END " + type + "-----";
        int e = text.indexOf(end, b);
        if (e < 0) {
            throw new IOException(file + ": '" + begin + "' has no '" + end + "'");
        }
        try {
            return Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
        } catch (IllegalArgumentException ex) {
            throw new IOException(file + ": the " + type + " block is not valid base64", ex);
        }
    }

    /** The named-curve OID from a SEC1 ECPrivateKey's [0] parameters. */
    private static byte[] curveOf(byte[] sec1, Path file) throws IOException {
        // ECPrivateKey ::= SEQUENCE { version INTEGER, privateKey OCTET STRING, [0] parameters, [1] publicKey }
        int[] pos = {0};
        expect(sec1, pos, 0x30, file);
        length(sec1, pos, file);
        while (pos[0] < sec1.length) {
            int tag = sec1[pos[0]++] & 0xff;
            int len = length(sec1, pos, file);
            if (tag == 0xa0) {
                if (len < 2 || (sec1[pos[0]] & 0xff) != 0x06) {
                    break;
                }
                byte[] oid = new byte[len];
                System.arraycopy(sec1, pos[0], oid, 0, len);
                return oid;
            }
            pos[0] += len;
        }
        throw new IOException(file + ": the EC private key does not name its curve");
    }

    private static void expect(byte[] der, int[] pos, int tag, Path file) throws IOException {
        if (pos[0] >= der.length || (der[pos[0]++] & 0xff) != tag) {
            throw new IOException(file + ": the key is not well-formed DER");
        }
    }

    private static int length(byte[] der, int[] pos, Path file) throws IOException {
        if (pos[0] >= der.length) {
            throw new IOException(file + ": the key is not well-formed DER");
        }
        int first = der[pos[0]++] & 0xff;
        if (first < 0x80) {
            return first;
        }
        int n = first & 0x7f;
        if (n > 3 || pos[0] + n > der.length) {
            throw new IOException(file + ": the key is not well-formed DER");
        }
        int len = 0;
        for (int i = 0; i < n; i++) {
            len = (len << 8) | (der[pos[0]++] & 0xff);
        }
        if (pos[0] + len > der.length) {
            throw new IOException(file + ": the key is not well-formed DER");
        }
        return len;
    }

    private static byte[] sequence(byte[] content) {
        return tlv(0x30, content);
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(content.length + 6);
        o.write(tag);
        int len = content.length;
        if (len < 0x80) {
            o.write(len);
        } else if (len < 0x100) {
            o.write(0x81);
            o.write(len);
        } else if (len < 0x10000) {
            o.write(0x82);
            o.write(len >> 8);
            o.write(len);
        } else {
            o.write(0x83);
            o.write(len >> 16);
            o.write(len >> 8);
            o.write(len);
        }
        o.writeBytes(content);
        return o.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }
}
