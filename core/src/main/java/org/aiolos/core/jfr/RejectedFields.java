package org.aiolos.core.jfr;

import java.util.LinkedHashSet;
import java.util.Set;

/** The fields a rejection message names: each error starts with its field and a colon. */
public final class RejectedFields {
    private RejectedFields() {
    }

    /**
     * @param message {@code "rejected: poll-max-ns: must be >= 0, got -1; fdmon: ..."} or the
     *     same without the {@code "rejected: "} prefix
     * @return {@code "poll-max-ns,fdmon"}; empty when no error starts with a field
     */
    public static String of(String message) {
        if (message == null) {
            return "";
        }
        String m = message.startsWith("rejected: ") ? message.substring("rejected: ".length()) : message;
        Set<String> fields = new LinkedHashSet<>();
        for (String error : m.split("; ")) {
            int colon = error.indexOf(':');
            String field = colon > 0 ? error.substring(0, colon).trim() : "";
            if (!field.isEmpty() && field.matches("[A-Za-z0-9_./-]+")) {
                fields.add(field);
            }
        }
        return String.join(",", fields);
    }
}
