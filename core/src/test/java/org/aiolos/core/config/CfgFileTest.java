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

    @Test
    void aSymbolicLinkIsWrittenThroughAndTheFileKeepsItsModeAndGroup() throws IOException {
        Path kept = Files.createDirectory(dir.resolve("elsewhere")).resolve("io1.cfg");
        Files.writeString(kept, "name=io1\npoll-max-ns=1\n");
        java.nio.file.attribute.GroupPrincipal group = otherGroup(kept);
        Files.getFileAttributeView(kept, java.nio.file.attribute.PosixFileAttributeView.class).setGroup(group);
        Files.setPosixFilePermissions(kept, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
        Path link = Files.createSymbolicLink(dir.resolve("org.aiolos.iothread-io1.cfg"), Path.of("elsewhere/io1.cfg"));

        CfgFile.write(link, Map.of("name", "io1", "poll-max-ns", "2"), null);

        assertEquals(true, Files.isSymbolicLink(link), "the link stays a link");
        assertEquals("name=io1\npoll-max-ns=2\n", Files.readString(kept), "the linked file has the new value");
        assertEquals("rw-r-----", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(kept)));
        assertEquals(group, Files.readAttributes(kept, java.nio.file.attribute.PosixFileAttributes.class).group());
        try (var s = Files.list(kept.getParent())) {
            assertEquals(List.of(kept), s.toList(), "no temporary file left beside it");
        }
    }

    /** A group the file is not in now that this process may give it (root: any; else one of its own). */
    private static java.nio.file.attribute.GroupPrincipal otherGroup(Path f) throws IOException {
        var lookup = f.getFileSystem().getUserPrincipalLookupService();
        var now = Files.readAttributes(f, java.nio.file.attribute.PosixFileAttributes.class).group();
        for (String name : new String[] {"nogroup", "daemon", "bin", "users"}) {
            try {
                var g = lookup.lookupPrincipalByGroupName(name);
                Files.getFileAttributeView(f, java.nio.file.attribute.PosixFileAttributeView.class).setGroup(g);
                if (!g.equals(now)) {
                    return g;
                }
            } catch (IOException notThisOne) {
                // not a group here, or not ours to give
            }
        }
        return now; // only the mode is then tested
    }
}
