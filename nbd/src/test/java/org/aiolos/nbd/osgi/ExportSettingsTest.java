package org.aiolos.nbd.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.io.InputStream;
import org.aiolos.core.config.ConfigSchema;
import org.aiolos.core.config.InvalidConfigurationException;
import org.aiolos.core.config.MetatypeSchemas;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Export configurations are validated whole against the Metatype bnd generates from
 * ExportConfig (a copy in the test resources; NbdIT checks it against the bundle's), and
 * every bad field is named first.
 */
class ExportSettingsTest {
    private static final ConfigSchema SCHEMA = schema();

    @TempDir
    Path home;

    private static ConfigSchema schema() {
        try (InputStream in = ExportSettingsTest.class.getResourceAsStream("ExportConfig-metatype.xml")) {
            return MetatypeSchemas.parse(in, NbdExportComponent.FACTORY_PID);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private ExportSettings parse(Map<String, Object> p, String name) {
        return ExportSettings.parse(SCHEMA, p, name, home);
    }

    private Map<String, Object> props(Object... kv) throws IOException {
        Path img = home.resolve("disk.img");
        if (!Files.exists(img)) {
            Files.write(img, new byte[4096]);
        }
        Map<String, Object> p = new HashMap<>(Map.of("file", img.toString(), "iothread", "io1"));
        for (int i = 0; i < kv.length; i += 2) {
            p.put((String) kv[i], kv[i + 1]);
        }
        return p;
    }

    private String rejection(Object... kv) throws IOException {
        Map<String, Object> p = props(kv);
        return assertThrows(InvalidConfigurationException.class, () -> parse(p, "dflt")).getMessage();
    }

    @Test
    void defaultsFillEverythingButFileAndIOThread() throws IOException {
        ExportSettings s = parse(props(), "scratch");
        assertEquals("scratch", s.name());
        assertEquals("127.0.0.1", s.address());
        assertEquals(10809, s.port());
        assertEquals("", s.engine());
        assertFalse(s.readOnly() || s.direct());
        assertEquals("127.0.0.1:10809", s.endpoint());
    }

    @Test
    void tlsSettingsAreCheckedAndNamed() throws IOException {
        assertEquals(org.aiolos.nbd.TlsSettings.DISABLED, parse(props(), "x").tls());
        Path creds = Files.createDirectories(home.resolve("pki"));
        Files.writeString(creds.resolve("server-cert.pem"), "x");
        Files.writeString(creds.resolve("server-key.pem"), "x");
        Files.writeString(creds.resolve("ca-cert.pem"), "x");
        ExportSettings s = parse(props("tls", "require", "tls-creds", "pki", "tls-verify-peer", "true",
                "tls-allowed-clients", "CN=a, O=Example; cn=b,o=Example"), "x");
        assertEquals(org.aiolos.nbd.TlsSettings.Mode.REQUIRE, s.tls().mode());
        assertEquals(creds, s.tls().credentials(), "relative to home");
        assertEquals(java.util.Set.of("cn=a,o=example", "cn=b,o=example"), s.tls().allowedClients());
        assertEquals(java.util.Set.of("cn=a,o=example", "cn=b,o=example"), s.toSpec().allowedClients(),
                "the allow-list is the export's");
        assertEquals(java.util.Set.of(), s.listenerTls().allowedClients(), "not the listener's");
        assertEquals(s.tls().verifyPeer(), s.listenerTls().verifyPeer());
        assertEquals(10, s.handshakeLimitSeconds(), "qemu-nbd's default");
        assertEquals(0, parse(props("handshake-limit", "0"), "x").handshakeLimitSeconds(), "0: no limit");
        String h = rejection("handshake-limit", "-1");
        assertTrue(h.contains("handshake-limit"), h);
        assertTrue(rejection("tls", "maybe").contains("tls: "), rejection("tls", "maybe"));
        String m = rejection("tls", "on");
        assertTrue(m.contains("tls-creds: ") && m.contains("needs a credentials directory"), m);
        // Credentials not there yet are the listener's to find (tried again), not a malformed configuration.
        assertTrue(parse(props("tls", "on", "tls-creds", "nowhere"), "x").tls().credentials().endsWith("nowhere"));
        m = rejection("tls", "on", "tls-creds", "pki", "tls-allowed-clients", "CN=a");
        assertTrue(m.contains("tls-allowed-clients: ") && m.contains("verify-peer"), m);
        m = rejection("tls", "on", "tls-creds", "pki", "tls-verify-peer", "true", "tls-allowed-clients", "no dn");
        assertTrue(m.contains("tls-allowed-clients: ") && m.contains("not a distinguished name"), m);
    }

    @Test
    void aUnixSocketReplacesAddressAndPort() throws IOException {
        ExportSettings s = parse(props("socket", "run/nbd.sock", "socket-mode", "0660"), "x");
        assertEquals(home.resolve("run/nbd.sock"), s.socket());
        assertEquals(0660, s.socketMode());
        assertEquals("unix:" + home.resolve("run/nbd.sock"), s.endpoint());
        assertEquals(0600, parse(props("socket", "/tmp/a.sock"), "x").socketMode());
        assertEquals(null, parse(props(), "x").socket());
        String m = rejection("socket", "/tmp/s.sock", "socket-mode", "rw-------");
        assertTrue(m.contains("socket-mode: must be an octal mode"), m);
        m = rejection("socket", "/tmp/" + "s".repeat(120));
        assertTrue(m.contains("socket: ") && m.contains("107 bytes"), m);
    }

    @Test
    void typedAndTextValuesAreAlike() throws IOException {
        ExportSettings typed = parse(props("port", 10810, "read-only", true), "x");
        ExportSettings text = parse(props("port", "10810", "read-only", "true"), "x");
        assertEquals(typed, text);
        assertTrue(text.readOnly());
    }

    @Test
    void aRelativeFileIsUnderHome() throws IOException {
        props();
        ExportSettings s = parse(props("file", "disk.img"), "x");
        assertEquals(home.resolve("disk.img"), s.file());
    }

    @Test
    void eachBadFieldIsNamed() throws IOException {
        assertTrue(rejection("port", "70000").startsWith("port: must be 0..65535"));
        assertTrue(rejection("port", "-1").startsWith("port: must be 0..65535"));
        assertTrue(rejection("port", "nbd").startsWith("port: not an integer: 'nbd'"));
        assertTrue(rejection("file", home.resolve("missing.img").toString()).startsWith("file: "));
        assertTrue(rejection("file", home.resolve("missing.img").toString()).endsWith("does not exist"));
        assertTrue(rejection("file", home.toString()).endsWith("is not a regular file"));
        assertTrue(rejection("file", "").startsWith("file: required"));
        assertTrue(rejection("engine", "posix").startsWith("engine: must be empty, threads, native or io_uring"));
        assertTrue(rejection("iothread", "").startsWith("iothread: required"));
        assertTrue(rejection("iothread", "io 1").startsWith("iothread: must be ASCII letters"));
        assertTrue(rejection("name", "a b").startsWith("name: must be ASCII letters"));
        // Names go into file names: not '..', not hidden, not an option (as for IOThreads).
        for (String bad : new String[] {"..", ".", ".hidden", "-x"}) {
            assertTrue(rejection("name", bad).startsWith("name: must be ASCII letters, digits, '_', '.' or '-', not"
                    + " starting with '.' or '-', got '" + bad + "'"), bad);
        }
        assertTrue(rejection("iothreads", "io2,..").startsWith("iothreads: each name must be ASCII letters"));
        assertTrue(rejection("read-only", "maybe").startsWith("read-only: must be true or false"));
        assertTrue(rejection("read-only", "TRUE").startsWith("read-only: must be true or false, got 'TRUE'"));
        assertTrue(rejection("port", "+10809").startsWith("port: write the integer plainly (10809), got '+10809'"));
        // Its .cfg file and Config Admin's store are named after it: a file name has 255 bytes.
        assertTrue(rejection("name", "n".repeat(201)).startsWith("name: at most 200 characters in a configuration"));
        assertEquals("n".repeat(200), parse(props("name", "n".repeat(200)), "dflt").name());
    }

    /**
     * ExportSpec's own checks come out as the other errors do: an InvalidConfigurationException
     * naming the field once (not "description: description ...").
     */
    @Test
    void theExportsOwnChecksAreConfigurationErrorsNamingTheField() throws IOException {
        assertEquals("description: must be at most 4096 bytes of UTF-8", rejection("description", "d".repeat(4097)));
    }

    @Test
    void anUnwritableImageIsAConfigurationErrorNamingTheFile() throws IOException {
        java.nio.file.Path ro = home.resolve("ro.img");
        java.nio.file.Files.write(ro, new byte[4096]);
        assertTrue(ro.toFile().setWritable(false));
        org.junit.jupiter.api.Assumptions.assumeFalse(java.nio.file.Files.isWritable(ro), "root ignores file modes");
        assertTrue(rejection("file", ro.toString()).startsWith("file: " + ro + " is not writable"));
    }

    @Test
    void anEmptyValueIsTheDefault() throws IOException {
        assertEquals("127.0.0.1", parse(props("address", "", "port", ""), "x").endpoint().split(":")[0]);
    }

    @Test
    void everyErrorIsReportedAtOnce() throws IOException {
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class,
                () -> parse(props("port", "70000", "read-only", "maybe", "frobnicate", "3", "iothread", ""), "x"));
        assertEquals(4, e.errors().size(), e.errors().toString());
        assertTrue(e.getMessage().startsWith("4 errors: frobnicate: unknown key; the known keys are address,"
                + " description, direct, engine, file, handshake-limit, iothread, iothreads, max-connections, name, port,"
                + " read-only"),
                e.getMessage());
    }

    @Test
    void furtherIOThreadsAreAListWithoutTheListeningOne() throws IOException {
        assertEquals(List.of(), parse(props(), "x").iothreads());
        ExportSettings s = parse(props("iothreads", " io2 , io1,io3"), "x");
        assertEquals(List.of("io2", "io3"), s.iothreads(), "io1 listens and serves anyway");
        assertEquals(List.of("io1", "io2", "io3"), s.servingIothreads());
        assertTrue(s.toString().contains("iothreads=io2,io3"), s.toString());
        assertEquals(parse(props("iothreads", "io2"), "x"), parse(props("iothreads", "io1, io2"), "x"));
        assertTrue(rejection("iothreads", "io2,,io3").startsWith("iothreads: each name must be ASCII letters"));
        assertTrue(rejection("iothreads", "io2,io 3").contains("got 'io 3'"));
        assertTrue(rejection("iothreads", "io2,io2").startsWith("iothreads: 'io2' is named twice"));
    }

    @Test
    void anUnnamedConfigurationIsNamedAfterItsPid() {
        assertEquals("scratch", NbdExports.defaultName("org.aiolos.nbd.export~scratch"));
        assertEquals("abc-123", NbdExports.defaultName("org.aiolos.nbd.export.abc-123"));
    }

    /** Only an image that is not there yet is worth trying again; with any other error it is not. */
    @Test
    void aMissingImageAloneIsTheRejectionTheFileMends() throws IOException {
        Path missing = home.resolve("later.img");
        Map<String, Object> p = props("file", missing.toString());
        assertTrue(ExportSettings.onlyMissingFile(assertThrows(InvalidConfigurationException.class, () -> parse(p, "x"))));
        Map<String, Object> alsoPort = props("file", missing.toString(), "port", "70000");
        assertFalse(ExportSettings.onlyMissingFile(assertThrows(InvalidConfigurationException.class,
                () -> parse(alsoPort, "x"))));
        Files.createDirectory(missing);
        assertFalse(ExportSettings.onlyMissingFile(assertThrows(InvalidConfigurationException.class,
                () -> parse(p, "x"))));
    }

    /** An IPv6 literal can never be bound by the IPv4-only listener: refused at once, not retried. */
    @Test
    void anIPv6AddressIsRefusedAsMalformed() throws IOException {
        String why = rejection("address", "::1");
        assertTrue(why.startsWith("address: ::1 is an IPv6 address; TCP listeners are IPv4 only"), why);
        assertFalse(ExportSettings.onlyMissingFile(assertThrows(InvalidConfigurationException.class,
                () -> parse(props("address", "::1"), "x"))));
        assertEquals("127.0.0.2", parse(props("address", "127.0.0.2"), "x").address());
    }

    /** A file named "export-My Disk.cfg" without name= is refused as name=My Disk is, saying where the name came from. */
    @Test
    void aConfigurationNameThatIsNoExportNameIsRefused() throws IOException {
        assertEquals("My Disk", NbdExports.defaultName("org.aiolos.nbd.export~My Disk"));
        Map<String, Object> p = props();
        String why = assertThrows(InvalidConfigurationException.class, () -> parse(p, "My Disk")).getMessage();
        assertEquals("name: must be ASCII letters, digits, '_', '.' or '-', not starting with '.' or '-', got"
                + " 'My Disk' (taken from the configuration's PID, as it has no name=; set name= or rename its .cfg"
                + " file)",
                why);
        assertTrue(rejection("name", "My Disk").endsWith("got 'My Disk'"));
    }
}
