package org.aiolos.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.Test;

/** How certificate names read in the log and in refusals. */
class CertificateNameTest {
    @Test
    void anEmailAddressReadsAsOpensslWritesItNotAsAnOid() {
        X500Principal p = new X500Principal("EMAILADDRESS=a@b.c, CN=backup, O=Example");
        // RFC 2253 alone gave 1.2.840.113549.1.9.1=#16056140622e63,CN=backup,O=Example.
        assertEquals("emailAddress=a@b.c,CN=backup,O=Example", ServerTls.displayName(p));
        assertEquals("CN=back\\, up,O=Example", ServerTls.displayName(new X500Principal("CN=back\\, up,O=Example")));
    }
}
