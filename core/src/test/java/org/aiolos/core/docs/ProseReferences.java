package org.aiolos.core.docs;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The Java names running text cites in code spans ({@code `Loop.poll(boolean)`},
 * {@code `org.aiolos.nbd.NbdServer`}, {@code `new TimerImpl(...)`}) and whether they
 * resolve. A span counts as a Java name when it has the shape of one and either starts
 * with {@code new}, names a package of this repository, or starts with a capitalised type
 * followed by a member or an argument list. Names qualified with another library's
 * package ({@code io.netty...}) are that library's and are not checked; names that the
 * sources spell as a string literal (JFR event names, configuration PIDs) resolve.
 */
final class ProseReferences {
    private ProseReferences() {
    }

    static List<String> unresolved(SourceIndex index, String markdown) {
        List<String> failures = new ArrayList<>();
        for (String span : MarkdownTables.codeSpans(markdown)) {
            if (!namesJava(span) || index.isStringLiteral(span)) {
                continue;
            }
            JavaReference.Resolution r = JavaReference.resolve(index, span, Set.of());
            if (!r.ok() && !r.error().contains("more than once")) {
                failures.add("`" + span + "`: " + r.error());
            }
        }
        return failures;
    }

    static boolean namesJava(String span) {
        if (!JavaReference.looksLikeJava(span)) {
            return false;
        }
        String head = span.replaceFirst("^new\\s+", "");
        if (span.startsWith("new ") || head.startsWith("org.aiolos.")) {
            return true;
        }
        return Character.isUpperCase(head.charAt(0)) && (head.contains(".") || head.contains("("))
                && !head.matches("[A-Z0-9_]+(\\.[A-Z0-9_]+)*(\\(.*\\))?");
    }
}
