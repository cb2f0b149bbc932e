package org.aiolos.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

class EchoSettingsTest {

    @Test
    void defaultsAndTheFrameworksKeys() {
        assertEquals(new EchoSettings(7007, 100), EchoSettings.parse(Map.of("component.name", "x",
                "service.pid", "org.aiolos.demo.echo", "felix.fileinstall.filename", "file:/c",
                "context.target", "(aiolos.name=io1)")));
        assertEquals(new EchoSettings(0, 0), EchoSettings.parse(Map.of("port", "0", "ping-ms", 0L)));
        assertEquals(new EchoSettings(7010, 250), EchoSettings.parse(Map.of("port", " 7010 ", "ping-ms", 250)));
        assertEquals(new EchoSettings(7007, 100), EchoSettings.parse(Map.of("port", "", "ping-ms", " ")));
    }

    @Test
    void everyBadFieldIsNamedAtOnce() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EchoSettings.parse(Map.of("port", "abc", "ping-ms", "-5", "frobnicate", "1")));
        assertEquals("port: must be an integer in 0..65535, got 'abc'; ping-ms: must be in 0..9223372036854775807,"
                + " got -5; frobnicate: unknown key; the known keys are context.target, ping-ms, port", e.getMessage());
        assertEquals("port: must be in 0..65535, got 70000",
                assertThrows(IllegalArgumentException.class, () -> EchoSettings.parse(Map.of("port", 70000)))
                        .getMessage());
    }
}
