package org.aiolos.nbd.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Export configurations are validated whole, and a bad one names its field first. */
class ExportSettingsTest {
    @TempDir
    Path home;

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
        return assertThrows(IllegalArgumentException.class, () -> ExportSettings.parse(p, "dflt", home)).getMessage();
    }

    @Test
    void defaultsFillEverythingButFileAndIOThread() throws IOException {
        ExportSettings s = ExportSettings.parse(props(), "scratch", home);
        assertEquals("scratch", s.name());
        assertEquals("127.0.0.1", s.address());
        assertEquals(10809, s.port());
        assertEquals("", s.engine());
        assertFalse(s.readOnly() || s.direct());
        assertEquals("127.0.0.1:10809", s.endpoint());
    }

    @Test
    void typedAndTextValuesAreAlike() throws IOException {
        ExportSettings typed = ExportSettings.parse(props("port", 10810, "read-only", true), "x", home);
        ExportSettings text = ExportSettings.parse(props("port", "10810", "read-only", "true"), "x", home);
        assertEquals(typed, text);
        assertTrue(text.readOnly());
    }

    @Test
    void aRelativeFileIsUnderHome() throws IOException {
        props();
        ExportSettings s = ExportSettings.parse(props("file", "disk.img"), "x", home);
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
        assertTrue(rejection("engine", "posix").startsWith("engine: must be empty (the IOThread's), threads,"));
        assertTrue(rejection("iothread", "").startsWith("iothread: required"));
        assertTrue(rejection("iothread", "io 1").startsWith("iothread: must be letters"));
        assertTrue(rejection("name", "a b").startsWith("name: must be letters"));
        assertTrue(rejection("read-only", "maybe").startsWith("read-only: must be true or false"));
        assertTrue(rejection("address", "").startsWith("address: must not be empty"));
    }

    @Test
    void anUnnamedConfigurationIsNamedAfterItsPid() {
        assertEquals("scratch", NbdExports.defaultName("org.aiolos.nbd.export~scratch"));
        assertEquals("abc-123", NbdExports.defaultName("org.aiolos.nbd.export.abc-123"));
    }
}
