package org.aiolos.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A .cfg file FileInstall's parser refuses is named in one WARNING with the line and what is
 * wrong there, and FileInstall's SEVERE record with its stack trace is not logged.
 */
class UnreadableConfigFilesTest {
    @TempDir
    Path dir;

    /** What reaches the handlers of a logger: its own records, after its filter. */
    private static final class Lines extends Handler implements AutoCloseable {
        final List<LogRecord> records = new CopyOnWriteArrayList<>();
        private final Logger logger;

        Lines(String name) {
            logger = Logger.getLogger(name);
            logger.addHandler(this);
        }

        @Override
        public void publish(LogRecord r) {
            records.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }

    @Test
    void fileInstallsParseFailureBecomesOneWarningNamingTheFileAndLine() throws Exception {
        Path cfg = dir.resolve("org.aiolos.iothread-bad.cfg");
        Files.writeString(cfg, "# \\uNOPE in a comment is no escape\nname=bad\nok=\\\\uZZZZ and \\u00e9\nx=\\uZZZZ\n");
        UnreadableConfigFiles.install();
        try (Lines fileinstall = new Lines(UnreadableConfigFiles.FILEINSTALL_LOGGER);
                Lines launcher = new Lines("org.aiolos.launcher")) {
            // As FileInstall's Util.DefaultLogger logs it with felix.fileinstall.log.default=jul.
            Logger.getLogger("fileinstall").log(Level.SEVERE, "Failed to install artifact: " + cfg,
                    new IllegalArgumentException("Unable to parse unicode value: ZZZZ",
                            new NumberFormatException("For input string: \"ZZZZ\" under radix 16")));
            assertEquals(List.of(), fileinstall.records, "FileInstall's trace is not logged");
            assertEquals(1, launcher.records.size());
            LogRecord w = launcher.records.get(0);
            assertEquals(Level.WARNING, w.getLevel());
            assertNull(w.getThrown());
            assertEquals(cfg + ": not read: line 4: malformed \\uxxxx escape '\\uZZZZ' (four hex digits must follow;"
                    + " \\\\u is a backslash and a u); FileInstall cannot parse the file and ignores it (a"
                    + " configuration made from it before stays as it was)", w.getMessage());

            // The same after an edit: FileInstall says "update" there, without the colon.
            Logger.getLogger("fileinstall").log(Level.SEVERE, "Failed to update artifact " + cfg,
                    new IllegalArgumentException("Unable to parse unicode value: ZZZZ"));
            assertEquals(List.of(), fileinstall.records);
            assertEquals(2, launcher.records.size());
            assertEquals(w.getMessage(), launcher.records.get(1).getMessage());

            // Anything else FileInstall says passes as it was.
            Logger.getLogger("fileinstall").log(Level.SEVERE, "Failed to install artifact: " + dir.resolve("x.jar"),
                    new IllegalArgumentException("bad jar"));
            Logger.getLogger("fileinstall").log(Level.INFO, "Creating configuration from " + cfg);
            assertEquals(2, fileinstall.records.size());
            assertEquals(2, launcher.records.size());
        }
    }

    @Test
    void withoutAMalformedEscapeTheParsersMessageIsTheReason() throws Exception {
        Path cfg = dir.resolve("org.aiolos.nbd.export-x.cfg");
        Files.writeString(cfg, "name=x\n");
        assertEquals("Unable to parse: y", UnreadableConfigFiles.whatIsWrong(cfg,
                new IllegalArgumentException("Unable to parse: y")));
        assertEquals("Unable to parse: y", UnreadableConfigFiles.whatIsWrong(dir.resolve("gone.cfg"),
                new IllegalArgumentException("Unable to parse: y")));
        assertTrue(UnreadableConfigFiles.malformedEscape(List.of("a=b", "a=\\u12G4")).startsWith("line 2: malformed"));
        assertNull(UnreadableConfigFiles.malformedEscape(List.of("a=\\uZZ")), "short at the line's end: the parser takes it");
        assertNull(UnreadableConfigFiles.malformedEscape(List.of("a=\\u00E9\\\\u", "b=c\\\\")));
    }
}
