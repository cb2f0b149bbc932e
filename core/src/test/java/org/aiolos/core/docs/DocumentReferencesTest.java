package org.aiolos.core.docs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * README.md and every document under docs/: the Java names they cite in code spans exist
 * in the main sources, and their relative links lead to a file (and heading) that exists.
 * A class renamed or a method removed fails here instead of leaving a reader at a dead end.
 */
class DocumentReferencesTest {
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");

    private static Path root;
    private static SourceIndex index;
    private static List<Path> documents;

    @BeforeAll
    static void parse() throws IOException {
        root = Repository.root();
        index = SourceIndex.of(root);
        try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
            documents = Stream.concat(Stream.of(root.resolve("README.md")),
                    docs.filter(p -> p.toString().endsWith(".md")).sorted()).toList();
        }
    }

    @Test
    void javaNamesInTheDocumentsResolve() {
        List<String> failures = new ArrayList<>();
        for (Path doc : documents) {
            for (String failure : ProseReferences.unresolved(index, Repository.read(doc))) {
                failures.add(root.relativize(doc) + ": " + failure);
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " unresolved:\n" + String.join("\n", failures));
    }

    @Test
    void relativeLinksLeadToFilesAndHeadingsThatExist() {
        List<String> failures = new ArrayList<>();
        for (Path doc : documents) {
            Matcher m = LINK.matcher(Repository.read(doc));
            while (m.find()) {
                String target = m.group(1);
                if (target.matches("[a-z]+:.*")) {
                    continue;
                }
                int hash = target.indexOf('#');
                String file = hash < 0 ? target : target.substring(0, hash);
                Path resolved = file.isEmpty() ? doc : doc.getParent().resolve(file).normalize();
                if (!Files.exists(resolved)) {
                    failures.add(root.relativize(doc) + ": no file " + target);
                } else if (hash >= 0 && resolved.toString().endsWith(".md")
                        && !anchors(resolved).contains(target.substring(hash + 1))) {
                    failures.add(root.relativize(doc) + ": no heading " + target);
                }
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    private static Set<String> anchors(Path markdown) {
        Set<String> anchors = new HashSet<>();
        boolean fenced = false;
        for (String line : Repository.read(markdown).split("\n")) {
            if (line.startsWith("```")) {
                fenced = !fenced;
            } else if (!fenced && line.startsWith("#")) {
                anchors.add(QemuMappingTest.anchor(line.replaceFirst("^#+\\s*", "")));
            }
        }
        return anchors;
    }
}
