package org.aiolos.core.docs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Sources and documents cite QEMU by function and file ({@code aio_poll} in
 * {@code util/aio-posix.c}), never by a section of a document or a copy of QEMU's files
 * that this repository does not hold: a reader must be able to follow every reference.
 * This scans every text file of the repository (build output and Git metadata aside).
 */
class ReferenceHygieneTest {
    /** Written with escapes so that this file does not match itself. */
    private static final List<Pattern> FORBIDDEN = List.of(
            // a numbered section sign: "spec \u00a7 1.3", "\u00a72.4"
            Pattern.compile("\u00a7\\s*\\d"),
            Pattern.compile("spec\\s+\u00a7"),
            // the same without the sign: the word spec followed by a section number
            Pattern.compile("(?i)\\bspec(ification)?\\s+(section\\s+)?\\d+(\\.\\d+)*\\b"),
            // the QEMU source copies and the behaviour notes outside the repository
            Pattern.compile("shared/se" + "eds"),
            Pattern.compile("(^|[\\s(`'\"/])se" + "eds/\\d"),
            Pattern.compile("aio-se" + "mantics"),
            Pattern.compile("/work/sh" + "ared"));

    private static final Set<String> SKIPPED_DIRS = Set.of("target", ".git", ".idea", "node_modules");
    private static final Set<String> TEXT = Set.of("java", "md", "xml", "properties", "bnd", "cfg",
            "txt", "sh", "json", "yml", "yaml", "html", "adoc", "conf", "svg", "mf", "py");

    @Test
    void noReferenceToDocumentsOutsideTheRepository() throws IOException {
        Path root = Repository.root();
        List<String> hits = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Path rel = root.relativize(file);
                if (skipped(rel) || !isText(rel)) {
                    continue;
                }
                String[] lines = read(file).split("\n", -1);
                for (int i = 0; i < lines.length; i++) {
                    for (Pattern p : FORBIDDEN) {
                        if (p.matcher(lines[i]).find()) {
                            hits.add(rel + ":" + (i + 1) + ": " + lines[i].strip());
                        }
                    }
                }
            }
        }
        assertTrue(hits.isEmpty(), "cite the QEMU function and file instead (e.g. aio_poll in "
                + "util/aio-posix.c):\n" + String.join("\n", hits));
    }

    private static boolean skipped(Path rel) {
        for (Path part : rel) {
            if (SKIPPED_DIRS.contains(part.toString())) {
                return true;
            }
        }
        return false;
    }

    private static boolean isText(Path rel) {
        String name = rel.getFileName().toString();
        int dot = name.lastIndexOf('.');
        if (dot < 0) {
            // scripts in bin/ and similar have no extension
            return rel.getNameCount() > 1 && rel.getName(0).toString().equals("bin")
                    || name.equals("README") || name.equals("LICENSE");
        }
        return TEXT.contains(name.substring(dot + 1).toLowerCase(java.util.Locale.ROOT));
    }

    private static String read(Path file) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
