package org.aiolos.core.docs;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pipe tables of a Markdown document, row by row, and the code spans in a piece of
 * Markdown: what the document checks need, nothing more.
 */
final class MarkdownTables {
    private static final Pattern CODE_SPAN = Pattern.compile("`([^`]+)`");

    /** One body row: its cells, the header it sits under, and its line number (from 1). */
    record Row(List<String> header, List<String> cells, int line) {
        /** The cell under the header named {@code column} (case-insensitive), or null. */
        String cell(String column) {
            for (int i = 0; i < header.size(); i++) {
                if (header.get(i).equalsIgnoreCase(column)) {
                    return i < cells.size() ? cells.get(i) : "";
                }
            }
            return null;
        }
    }

    private MarkdownTables() {
    }

    static List<Row> rows(String markdown) {
        List<Row> rows = new ArrayList<>();
        String[] lines = markdown.split("\n", -1);
        List<String> header = null;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].trim();
            if (!line.startsWith("|")) {
                header = null;
                continue;
            }
            if (header == null) {
                header = cells(line);
                continue;
            }
            if (line.matches("\\|[\\s:|-]+\\|")) {
                continue;
            }
            rows.add(new Row(header, cells(line), i + 1));
        }
        return rows;
    }

    /** Splits a table line on unescaped pipes outside code spans. */
    static List<String> cells(String line) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean inCode = false;
        String body = line.substring(1, line.endsWith("|") ? line.length() - 1 : line.length());
        for (int i = 0; i < body.length(); i++) {
            char ch = body.charAt(i);
            if (ch == '\\' && i + 1 < body.length() && body.charAt(i + 1) == '|') {
                cell.append('|');
                i++;
            } else if (ch == '`') {
                inCode = !inCode;
                cell.append(ch);
            } else if (ch == '|' && !inCode) {
                cells.add(cell.toString().trim());
                cell.setLength(0);
            } else {
                cell.append(ch);
            }
        }
        cells.add(cell.toString().trim());
        return cells;
    }

    static List<String> codeSpans(String markdown) {
        List<String> spans = new ArrayList<>();
        Matcher m = CODE_SPAN.matcher(markdown);
        while (m.find()) {
            spans.add(m.group(1).trim());
        }
        return spans;
    }

    /** Markdown outside tables and fenced code blocks, for the prose checks. */
    static String prose(String markdown) {
        StringBuilder b = new StringBuilder();
        boolean fenced = false;
        for (String line : markdown.split("\n", -1)) {
            if (line.trim().startsWith("```")) {
                fenced = !fenced;
                continue;
            }
            if (!fenced && !line.trim().startsWith("|")) {
                b.append(line).append('\n');
            }
        }
        return b.toString();
    }
}
