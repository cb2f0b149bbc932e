package org.aiolos.launcher;

import java.io.FileOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.logging.ErrorManager;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;
import java.util.logging.StreamHandler;

/**
 * A java.util.logging handler writing to one file that is always the newest log
 * ({@code log/aiolos.log}), rolled when it passes {@code limit} bytes: the file becomes
 * {@code aiolos.log.1}, the older ones move up one, and the oldest beyond {@code count}
 * files goes. (The JDK's FileHandler numbers its newest file {@code .0} instead.)
 *
 * <p>Properties, prefixed with this class's name: {@code file} (default
 * {@code log/aiolos.log}), {@code limit} (bytes, default 10 MiB), {@code count} (files
 * kept, the current one included, default 5), {@code level} (default ALL),
 * {@code formatter} (default {@link SimpleFormatter}).
 */
public final class RollingLogFile extends StreamHandler {
    private final Path file;
    private final long limit;
    private final int count;
    private long written;

    public RollingLogFile() {
        LogManager lm = LogManager.getLogManager();
        String p = getClass().getName();
        file = Path.of(prop(lm, p + ".file", "log/aiolos.log")).toAbsolutePath();
        limit = Long.parseLong(prop(lm, p + ".limit", String.valueOf(10L << 20)));
        count = Math.max(1, Integer.parseInt(prop(lm, p + ".count", "5")));
        setLevel(Level.parse(prop(lm, p + ".level", "ALL")));
        try {
            String f = lm.getProperty(p + ".formatter");
            setFormatter(f == null ? new SimpleFormatter()
                    : (java.util.logging.Formatter) ClassLoader.getSystemClassLoader().loadClass(f)
                            .getConstructor().newInstance());
            Files.createDirectories(file.getParent());
            open();
        } catch (IOException | ReflectiveOperationException e) {
            reportError("cannot open " + file + ": " + e, e, ErrorManager.OPEN_FAILURE);
        }
    }

    /**
     * What is wrong with this handler's properties in {@code props} (a logging.properties),
     * or null. With a bad value the JDK printed a stack trace and ran without the handler,
     * while the start line still named the log file; {@link LogSetup} asks first.
     */
    static String problem(java.util.Properties props) {
        String p = RollingLogFile.class.getName();
        String[][] checks = {{"limit", "a number"}, {"count", "a number"}, {"level", "a level"}};
        for (String[] c : checks) {
            String v = props.getProperty(p + "." + c[0]);
            if (v == null || v.isBlank()) {
                continue;
            }
            try {
                if (c[0].equals("level")) {
                    Level.parse(v.trim());
                } else {
                    Long.parseLong(v.trim());
                }
            } catch (IllegalArgumentException e) { // NumberFormatException is one
                return RollingLogFile.class.getSimpleName() + "." + c[0] + ": not " + c[1] + " '" + v.trim() + "'";
            }
        }
        return null;
    }

    /** The file this handler writes (for the console notice). */
    Path file() {
        return file;
    }

    @Override
    public synchronized void publish(LogRecord record) {
        super.publish(record);
        flush(); // an operator tails the file; a crash must not lose the last lines
        if (written > limit) {
            try {
                roll();
            } catch (IOException e) {
                reportError("cannot roll " + file + ": " + e, e, ErrorManager.WRITE_FAILURE);
            }
        }
    }

    private void roll() throws IOException {
        Files.deleteIfExists(numbered(count - 1));
        for (int i = count - 2; i >= 1; i--) {
            if (Files.exists(numbered(i))) {
                Files.move(numbered(i), numbered(i + 1), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        if (count > 1) {
            Files.move(file, numbered(1), StandardCopyOption.REPLACE_EXISTING);
        } else {
            Files.delete(file);
        }
        open();
    }

    private Path numbered(int i) {
        return file.resolveSibling(file.getFileName() + "." + i);
    }

    private void open() throws IOException {
        written = Files.exists(file) ? Files.size(file) : 0;
        OutputStream counting = new FilterOutputStream(new FileOutputStream(file.toFile(), true)) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
                written += len;
            }

            @Override
            public void write(int b) throws IOException {
                out.write(b);
                written++;
            }
        };
        setOutputStream(counting); // closes the previous stream
    }

    private static String prop(LogManager lm, String key, String dflt) {
        String v = lm.getProperty(key);
        return v == null || v.isBlank() ? dflt : v.trim();
    }
}
