package org.aiolos.core.config;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * A {@code .cfg} file (Java properties, ISO-8859-1, as FileInstall reads it) rewritten with
 * new values while its comments, blank lines and order stay: a key still present keeps its
 * line with the new value, a key no longer present loses its line, a new key is added at
 * the end. The file is replaced whole (written beside it, then moved over it), so a reader
 * such as FileInstall never sees half of it; through a symbolic link it is the linked file
 * that is replaced, and it keeps its mode, group and owner ({@link FileAccess}).
 */
public final class CfgFile {
    private CfgFile() {
    }

    /**
     * @param file the file; created when missing (with {@code header} as its first comment)
     * @param props the configuration's properties (infrastructure keys are not written)
     * @param header a comment for a new file; null for none
     */
    public static void write(Path file, Map<String, ?> props, String header) throws IOException {
        Map<String, String> left = new LinkedHashMap<>();
        props.forEach((k, v) -> {
            if (!ConfigSchema.infrastructure(k) && v != null) {
                left.put(k, String.valueOf(v));
            }
        });
        List<String> out = new ArrayList<>();
        Path target = target(file);
        if (Files.exists(target)) {
            List<String> lines = Files.readAllLines(target, StandardCharsets.ISO_8859_1);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                int last = i;
                while (continues(lines.get(last)) && last + 1 < lines.size()) {
                    last++;
                }
                String key = key(line);
                if (key == null) {
                    out.add(line);
                } else if (left.containsKey(key)) {
                    out.add(entry(key, left.remove(key)));
                } // else: the key was removed, and its line (with continuations) goes
                i = key == null ? i : last;
            }
        } else if (header != null) {
            header.lines().forEach(l -> out.add("# " + l));
        }
        left.forEach((k, v) -> out.add(entry(k, v)));
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.write(tmp, out, StandardCharsets.ISO_8859_1);
        if (Files.exists(target)) {
            FileAccess.copy(target, tmp);
        }
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * The file to write for {@code file}: the file a symbolic link points to (however many
     * links deep), else {@code file}. Replacing the link itself made it a plain file,
     * while the file it pointed to, which the operator keeps elsewhere, kept the old value.
     */
    static Path target(Path file) throws IOException {
        Path f = file;
        for (int hops = 0; Files.isSymbolicLink(f); hops++) {
            if (hops == 40) {
                throw new java.nio.file.FileSystemException(file.toString(), null, "too many levels of symbolic links");
            }
            f = f.resolveSibling(Files.readSymbolicLink(f));
        }
        return f.normalize();
    }

    /** The key of a property line; null for a comment or blank line. */
    static String key(String line) {
        String s = line.stripLeading();
        if (s.isEmpty() || s.startsWith("#") || s.startsWith("!")) {
            return null;
        }
        Properties p = new Properties();
        try {
            p.load(new java.io.StringReader(s.endsWith("\\") ? s + "\n" : s));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.isEmpty() ? null : p.stringPropertyNames().iterator().next();
    }

    /** Whether a line continues on the next (it ends with an odd number of backslashes). */
    private static boolean continues(String line) {
        int n = 0;
        for (int i = line.length() - 1; i >= 0 && line.charAt(i) == '\\'; i--) {
            n++;
        }
        return n % 2 == 1;
    }

    /** One {@code key=value} line, escaped as {@link Properties#store} escapes it. */
    static String entry(String key, String value) {
        Properties p = new Properties();
        p.setProperty(key, value);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            p.store(buf, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buf.toString(StandardCharsets.ISO_8859_1).lines().filter(l -> !l.startsWith("#")).findFirst()
                .orElseThrow();
    }
}
