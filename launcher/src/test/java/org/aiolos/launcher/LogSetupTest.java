package org.aiolos.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The start line's "log:" says where the log goes, and when it goes nowhere, why. */
class LogSetupTest {
    @TempDir
    Path home;

    @Test
    void aBadValueIsNamedInsteadOfALogFileThatIsNotWritten() throws Exception {
        Path conf = Files.createDirectory(home.resolve("conf"));
        Path file = Files.writeString(conf.resolve(LogSetup.FILE), """
                handlers=org.aiolos.launcher.RollingLogFile
                org.aiolos.launcher.RollingLogFile.file=${aiolos.home}/log/aiolos.log
                org.aiolos.launcher.RollingLogFile.limit=ten
                """);
        assertEquals("none: " + file + ": RollingLogFile.limit: not a number 'ten'; warnings on the console",
                LogSetup.configure(home, conf));
        Files.writeString(file, "org.aiolos.launcher.RollingLogFile.level=LOUD\n");
        assertEquals("none: " + file + ": RollingLogFile.level: not a level 'LOUD'; warnings on the console",
                LogSetup.configure(home, conf));
    }
}
