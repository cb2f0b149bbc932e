package org.aiolos.launcher;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/**
 * Points java.util.logging (where the bundles' {@code System.Logger} output goes) at the
 * distribution's {@code logging.properties}, unless the user named a file of their own with
 * {@code -Djava.util.logging.config.file}, which the JDK has read already and which wins.
 * {@code ${aiolos.home}} in the file's values is the distribution's folder.
 */
final class LogSetup {
    static final String FILE = "logging.properties";
    private static final String USER_FILE = "java.util.logging.config.file";

    private LogSetup() {
    }

    /** @return where the configuration came from, for the start line */
    static String configure(Path home, Path conf) throws IOException {
        String own = System.getProperty(USER_FILE);
        if (own != null) {
            return own;
        }
        Path file = conf.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            warningsOnTheConsole();
            return "none (" + file + " is missing): warnings on the console";
        }
        String text = Files.readString(file, StandardCharsets.ISO_8859_1)
                .replace("${aiolos.home}", home.toString().replace("\\", "\\\\"));
        Properties props = new Properties();
        props.load(new StringReader(text));
        String problem = RollingLogFile.problem(props);
        if (problem != null) {
            // Not read at all: the JDK would print a stack trace and drop the log file silently.
            warningsOnTheConsole();
            return "none: " + file + ": " + problem + "; warnings on the console";
        }
        LogManager lm = LogManager.getLogManager();
        lm.readConfiguration(new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1)));
        String log = lm.getProperty(RollingLogFile.class.getName() + ".file");
        return (log == null ? "no log file" : log.trim()) + " (as " + file + " says)";
    }

    /** Without a usable file: the console as quiet as the shipped file would keep it (warnings only). */
    private static void warningsOnTheConsole() {
        Logger root = Logger.getLogger("");
        root.setLevel(Level.WARNING);
        for (Handler h : root.getHandlers()) {
            h.setLevel(Level.WARNING);
        }
    }
}
