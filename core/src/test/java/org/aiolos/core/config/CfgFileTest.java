package org.aiolos.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A .cfg rewritten by the shell keeps its comments and order; what it says reads back as written. */
class CfgFileTest {
    @TempDir
    Path dir;

    @Test
    void rewritingKeepsCommentsReplacesChangedLinesDropsRemovedOnesAppendsNewOnes() throws IOException {
        Path f = dir.resolve("org.aiolos.iothread-io1.cfg");
        Files.write(f, List.of("# the IOThread of the demo", "name=io1", "", "poll-max-ns = 32768", "fdmon=epoll",
                "aio-engine=threads, \\", "  still the engine line"), StandardCharsets.ISO_8859_1);
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("name", "io1");
        props.put("poll-max-ns", "4000");
        props.put("thread-pool-max", "8");
        props.put("description", "ünïcode & = : # x");
        props.put("felix.fileinstall.filename", f.toUri().toString());
        props.put("service.pid", "org.aiolos.iothread~io1");
        CfgFile.write(f, props, null);
        assertEquals(List.of("# the IOThread of the demo", "name=io1", "", "poll-max-ns=4000", "thread-pool-max=8",
                "description=\\u00FCn\\u00EFcode & \\= \\: \\# x"), Files.readAllLines(f, StandardCharsets.ISO_8859_1));
        Properties back = new Properties();
        try (Reader r = Files.newBufferedReader(f, StandardCharsets.ISO_8859_1)) {
            back.load(r);
        }
        assertEquals(Map.of("name", "io1", "poll-max-ns", "4000", "thread-pool-max", "8", "description",
                "ünïcode & = : # x"), back);
    }

    @Test
    void aNewFileGetsTheHeaderAndNoTemporaryFileIsLeft() throws IOException {
        Path f = dir.resolve("org.aiolos.nbd.export-d1.cfg");
        CfgFile.write(f, Map.of("file", "/tmp/d1.img"), "Written by the shell");
        assertEquals(List.of("# Written by the shell", "file=/tmp/d1.img"), Files.readAllLines(f));
        try (var s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList());
        }
    }
}
