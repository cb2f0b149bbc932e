package org.aiolos.nbd.osgi;

import java.util.ArrayList;
import java.util.List;
import org.aiolos.nbd.ExportStats;

/**
 * Formats {@code nbd:list}: a table of every export (served ones with their live counters,
 * the others with what they wait for), then the configurations that were rejected and why.
 */
final class ExportListing {
    private static final String[] HEADER = {"NAME", "STATE", "IOTHREAD", "ADDRESS", "ENGINE", "RO", "SIZE", "CONN",
        "REQUESTS", "READ", "WRITTEN", "ERRORS", "FILE"};

    private ExportListing() {
    }

    static String render(List<ExportEntry.Snapshot> entries) {
        List<String[]> rows = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        // About exports that serve (without one of their IOThreads, or an update refused): not
        // under "not served", which an operator reads as down.
        List<String> servedNotes = new ArrayList<>();
        // By export name, then configuration: the order an operator looks things up in
        // (the entries come in PID order, which follows the files' names, not the exports').
        List<ExportEntry.Snapshot> sorted = new ArrayList<>(entries);
        sorted.sort(java.util.Comparator.comparing((ExportEntry.Snapshot e) -> e.settings() != null
                ? e.settings().name() : String.valueOf(e.requestedName())).thenComparing(ExportEntry.Snapshot::pid));
        for (ExportEntry.Snapshot e : sorted) {
            ExportSettings s = e.settings();
            if (s == null) {
                notes.add(e.requestedName() + " (" + e.pid() + ")  " + e.rejected());
                continue;
            }
            ExportStats st = e.serving() ? stats(e) : null;
            String state = e.serving() ? "serving" : e.waiting();
            String iothreads = e.serving() ? e.listener().servingNames() : String.join(",", s.servingIothreads());
            rows.add(new String[] {s.name(), e.serving() ? "serving" : "waiting", iothreads,
                e.serving() ? e.listener().bound() : s.endpoint(),
                st != null ? st.engine() : s.engine().isEmpty() ? "(iothread's)" : s.engine(),
                s.readOnly() ? "yes" : "no", st != null ? Long.toString(st.size()) : "-",
                st != null ? Integer.toString(st.connections()) : "-",
                st != null ? Long.toString(st.requests()) : "-", st != null ? Long.toString(st.bytesRead()) : "-",
                st != null ? Long.toString(st.bytesWritten()) : "-", st != null ? Long.toString(st.errors()) : "-",
                s.file().toString()});
            if (!e.serving()) {
                notes.add(s.name() + "  " + state);
            } else if (!iothreads.equals(String.join(",", s.servingIothreads()))) {
                List<String> missing = new ArrayList<>(s.iothreads());
                missing.removeAll(List.of(iothreads.split(",")));
                servedNotes.add(s.name() + "  served without IOThread" + (missing.size() == 1 ? " '" : "s '")
                        + String.join(",", missing) + "' (waiting for " + (missing.size() == 1 ? "it" : "them") + ")");
            }
            if (e.lastRejection() != null) {
                (e.serving() ? servedNotes : notes).add(s.name() + "  last update " + e.lastRejection());
            }
        }
        StringBuilder out = new StringBuilder();
        if (rows.isEmpty()) {
            out.append("no exports");
        } else {
            rows.addFirst(HEADER);
            table(rows, out);
            out.setLength(out.length() - 1);
        }
        section(out, "served, with notes:", servedNotes);
        section(out, "not served:", notes);
        return out.toString().stripTrailing();
    }

    private static void section(StringBuilder out, String heading, List<String> lines) {
        if (!lines.isEmpty()) {
            out.append("\n\n").append(heading);
            for (String n : lines) {
                out.append("\n  ").append(n);
            }
        }
    }

    /** The export's counters from its server; null if the listener closed meanwhile. */
    private static ExportStats stats(ExportEntry.Snapshot e) {
        try {
            for (ExportStats st : e.listener().server.exports()) {
                if (st.name().equals(e.settings().name())) {
                    return st;
                }
            }
        } catch (RuntimeException closedMeanwhile) {
            // listed as served without counters
        }
        return null;
    }

    private static void table(List<String[]> rows, StringBuilder out) {
        int[] width = new int[HEADER.length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                line.append(r[i]).append(" ".repeat(i == r.length - 1 ? 0 : width[i] - r[i].length() + 2));
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
    }
}
