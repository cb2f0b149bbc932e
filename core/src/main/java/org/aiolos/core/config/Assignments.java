package org.aiolos.core.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code key=value} words of a shell command that changes a configuration.
 * {@code key=value} sets a value; {@code key=} (nothing after the {@code =}) removes the key,
 * so the field takes its default (the same as a blank value or a missing key in a
 * {@code .cfg} file). A word without {@code =}, or with an empty key, is an error; so is a
 * key given twice.
 */
public final class Assignments {
    private final Map<String, String> set;
    private final List<String> removed;

    private Assignments(Map<String, String> set, List<String> removed) {
        this.set = Collections.unmodifiableMap(set);
        this.removed = List.copyOf(removed);
    }

    /**
     * @throws InvalidConfigurationException listing every malformed word
     */
    public static Assignments parse(String... words) {
        Map<String, String> set = new LinkedHashMap<>();
        List<String> removed = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        for (String w : words) {
            int eq = w.indexOf('=');
            if (eq <= 0) {
                errors.add("'" + w + "': expected key=value (or key= to go back to the default)");
                continue;
            }
            String key = w.substring(0, eq).trim();
            String value = w.substring(eq + 1);
            if (set.containsKey(key) || removed.contains(key)) {
                errors.add(key + ": given twice");
            } else if (value.isEmpty()) {
                removed.add(key);
            } else {
                set.put(key, value);
            }
        }
        if (!errors.isEmpty()) {
            throw new InvalidConfigurationException(null, errors);
        }
        return new Assignments(set, removed);
    }

    /** The keys given a value, in the order given. */
    public Map<String, String> set() {
        return set;
    }

    /** The keys given {@code key=}: removed, so they take their defaults. */
    public List<String> removed() {
        return removed;
    }

    /** {@code current} with these assignments applied (a new map). */
    public Map<String, Object> applyTo(Map<String, Object> current) {
        Map<String, Object> next = new LinkedHashMap<>(current);
        removed.forEach(next::remove);
        next.putAll(set);
        return next;
    }

    /** The words again, for messages. */
    @Override
    public String toString() {
        List<String> words = new ArrayList<>();
        set.forEach((k, v) -> words.add(k + "=" + v));
        removed.forEach(k -> words.add(k + "="));
        return String.join(" ", words);
    }
}
