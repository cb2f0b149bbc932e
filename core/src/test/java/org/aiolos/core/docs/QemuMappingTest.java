package org.aiolos.core.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docs/qemu-mapping.md is the newcomer's one step from a QEMU function to its Java home.
 * These checks keep it true: every Java name it gives exists in the main sources (with
 * that signature, in the module the row names), every row that has no Java home says
 * why, every QEMU function on the list in {@code qemu-api.txt} has a row, and every
 * link points at a file or heading that exists.
 */
class QemuMappingTest {
    private static final String QEMU = "QEMU";
    private static final String QEMU_FILE = "QEMU file";
    private static final String JAVA = "Java home";
    private static final String MODULE = "module";
    private static final String NOTES = "notes";
    private static final String NONE = "\u2014";
    /** The module column's name for a JDK type ({@code Runnable}). */
    private static final String JDK = "jdk";

    private static Path root;
    private static SourceIndex index;
    private static String doc;
    private static List<MarkdownTables.Row> rows;

    @BeforeAll
    static void parse() {
        root = Repository.root();
        index = SourceIndex.of(root);
        doc = Repository.read(root.resolve("docs/qemu-mapping.md"));
        rows = MarkdownTables.rows(doc).stream().filter(r -> r.cell(JAVA) != null).toList();
    }

    @Test
    void theDocumentHasMappingRows() {
        assertTrue(rows.size() > 150, "only " + rows.size() + " rows with a '" + JAVA + "' column");
        for (MarkdownTables.Row row : rows) {
            assertEquals(List.of(QEMU, QEMU_FILE, JAVA, MODULE, NOTES), row.header(),
                    "columns of the table at line " + row.line());
        }
    }

    @Test
    void everyJavaHomeResolvesInTheModuleItNames() {
        List<String> failures = new ArrayList<>();
        for (MarkdownTables.Row row : rows) {
            String java = row.cell(JAVA);
            if (java.equals(NONE)) {
                continue;
            }
            Set<String> modules = MarkdownTables.codeSpans(row.cell(MODULE)).stream()
                    .collect(Collectors.toSet());
            for (String m : modules) {
                if (!index.modules().contains(m) && !m.equals(JDK)) {
                    failures.add(where(row) + "module `" + m + "` has no main sources");
                }
            }
            List<String> spans = MarkdownTables.codeSpans(java);
            if (spans.isEmpty()) {
                failures.add(where(row) + "the Java home names no class (write `—` and say why)");
            }
            for (String span : spans) {
                if (isLiteral(span)) {
                    continue;
                }
                JavaReference.Resolution r = JavaReference.resolve(index, span, modules);
                if (!r.ok()) {
                    failures.add(where(row) + "`" + span + "`: " + r.error());
                } else if (!modules.containsAll(r.modules())) {
                    failures.add(where(row) + "`" + span + "` is in module " + r.modules()
                            + ", the row says " + modules);
                }
            }
            if (modules.isEmpty()) {
                failures.add(where(row) + "no module");
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " unresolved:\n" + String.join("\n", failures));
    }

    @Test
    void javaNamesInNotesAndProseResolve() {
        List<String> texts = new ArrayList<>();
        rows.forEach(r -> texts.add(r.cell(NOTES)));
        texts.add(MarkdownTables.prose(doc));
        MarkdownTables.rows(doc).stream().filter(r -> r.cell(JAVA) == null)
                .forEach(r -> texts.add(String.join(" | ", r.cells())));
        List<String> failures = new ArrayList<>();
        for (String text : texts) {
            failures.addAll(ProseReferences.unresolved(index, text));
        }
        assertTrue(failures.isEmpty(), failures.size() + " unresolved:\n" + String.join("\n", failures));
    }

    @Test
    void everyRowWithoutAJavaHomeSaysWhy() {
        List<String> failures = new ArrayList<>();
        for (MarkdownTables.Row row : rows) {
            if (MarkdownTables.codeSpans(row.cell(QEMU)).isEmpty()) {
                failures.add(where(row) + "no QEMU name");
            }
            if (row.cell(QEMU_FILE).isBlank()) {
                failures.add(where(row) + "no QEMU file");
            }
            if (row.cell(JAVA).equals(NONE) && reasonless(row.cell(NOTES))) {
                failures.add(where(row) + "not carried over, but the notes do not say why");
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @Test
    void everyListedQemuFunctionHasARow() {
        Set<String> mapped = new HashSet<>();
        for (MarkdownTables.Row row : rows) {
            for (String span : MarkdownTables.codeSpans(row.cell(QEMU))) {
                mapped.add(span.replaceAll("\\(.*\\)$", "").trim());
            }
        }
        Map<String, List<String>> missing = new LinkedHashMap<>();
        String file = null;
        for (String line : Repository.read(listFile()).split("\n")) {
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.endsWith(":")) {
                file = line.substring(0, line.length() - 1);
                continue;
            }
            for (String name : line.split("\\s+")) {
                if (!mapped.contains(name)) {
                    missing.computeIfAbsent(file, k -> new ArrayList<>()).add(name);
                }
            }
        }
        assertTrue(missing.isEmpty(), "QEMU names without a row in docs/qemu-mapping.md: " + missing);
    }

    @Test
    void linksPointAtFilesAndHeadingsThatExist() {
        Set<String> anchors = new HashSet<>();
        for (String line : doc.split("\n")) {
            if (line.startsWith("#")) {
                anchors.add(anchor(line.replaceFirst("^#+\\s*", "")));
            }
        }
        List<String> failures = new ArrayList<>();
        Matcher m = Pattern.compile("\\]\\(([^)\\s]+)\\)").matcher(doc);
        while (m.find()) {
            String target = m.group(1);
            if (target.startsWith("http")) {
                continue;
            }
            if (target.startsWith("#")) {
                if (!anchors.contains(target.substring(1))) {
                    failures.add("no heading for " + target);
                }
            } else if (!Files.exists(root.resolve("docs").resolve(target.replaceFirst("#.*", "")))) {
                failures.add("no file docs/" + target);
            }
        }
        Matcher path = Pattern.compile("(?<![\\w/])((?:docs|bin|bench)/[\\w./-]*\\w)").matcher(doc);
        while (path.find()) {
            if (!Files.exists(root.resolve(path.group(1)))) {
                failures.add("no file " + path.group(1));
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    private static Path listFile() {
        return root.resolve("core/src/test/resources/org/aiolos/core/docs/qemu-api.txt");
    }

    /** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
    static String anchor(String heading) {
        return heading.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
    }

    private static boolean isLiteral(String span) {
        return span.startsWith("\"") || span.matches("-?\\d.*");
    }

    private static boolean reasonless(String notes) {
        String plain = notes.replace(NONE, "").strip();
        return plain.length() < 8;
    }

    private static String where(MarkdownTables.Row row) {
        return "line " + row.line() + " " + Arrays.toString(new String[] {row.cell(QEMU)}) + ": ";
    }
}
