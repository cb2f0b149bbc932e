package org.aiolos.nbd.internal;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The server's one certificate chain and key, handed to the JDK's TLS as they are.
 *
 * <p>Why not {@code KeyManagerFactory} over a PKCS#12 {@code KeyStore}: the JDK's PKCS#12
 * store keeps the private key encrypted (PBES2 with 10,000 PBKDF2 rounds, even with an
 * empty password) and its key manager decrypts it again for every handshake. Profiled
 * (JFR, one TLS client at QD1): almost all of the server's CPU outside AES-GCM was
 * {@code PBKDF2KeyImpl.deriveKey} under {@code X509KeyManagerImpl.getPrivateKey}, tens of
 * milliseconds per connection; with fio opening a connection per 1 s round that showed as
 * 40 µs more CPU per request over TLS than in plaintext at QD1. Here the key is decoded
 * once, when the credential files are read.
 */
final class ServerKeyManager extends X509ExtendedKeyManager {
    private static final String ALIAS = "server";

    private final X509Certificate[] chain;
    private final PrivateKey key;

    ServerKeyManager(X509Certificate[] chain, PrivateKey key) {
        this.chain = chain.clone();
        this.key = key;
    }

    /**
     * Whether the key can serve {@code keyType}, the JDK's name of the key algorithm a
     * signature scheme or cipher suite needs ({@code EC}, {@code RSA}, {@code RSASSA-PSS},
     * {@code EdDSA}...).
     */
    private String aliasFor(String keyType) {
        String alg = key.getAlgorithm();
        return keyType != null && (keyType.equalsIgnoreCase(alg) || ("EdDSA".equalsIgnoreCase(keyType)
                && (alg.equalsIgnoreCase("Ed25519") || alg.equalsIgnoreCase("Ed448")))) ? ALIAS : null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return aliasFor(keyType);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return aliasFor(keyType);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return aliasFor(keyType) == null ? null : new String[] {ALIAS};
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return ALIAS.equals(alias) ? chain.clone() : null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return ALIAS.equals(alias) ? key : null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null; // a server only
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return null;
    }
}
