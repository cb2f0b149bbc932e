package org.aiolos.core.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The fields of one configuration PID (from its Metatype: {@link MetatypeSchemas}), and the
 * check every configuration of it goes through before it is stored or applied. The check
 * finds every error at once: unknown keys (with the list of known ones), values of the
 * wrong type or form, values out of bounds or not among the options, required fields
 * missing. A missing or blank value means the field's default.
 *
 * <p>Keys that the framework and its services add ({@code service.*}, {@code component.*},
 * {@code felix.*}, {@code osgi.*}, and private ones starting with {@code .} or {@code :})
 * are not the configuration's own and are ignored.
 */
public final class ConfigSchema {
    private final String pid;
    private final Map<String, ConfigField> fields;

    /** The checked values of one configuration: every field's value, or the errors. */
    public record Checked(Map<String, Object> values, List<String> errors) {
        /** The field's checked value (its default when absent); null when it had an error or no default. */
        public Object get(String id) {
            return values.get(id);
        }

        /** Whether {@code id}'s value is usable (present or defaulted, and valid). */
        public boolean has(String id) {
            return values.get(id) != null;
        }
    }

    public ConfigSchema(String pid, List<ConfigField> fields) {
        this.pid = pid;
        Map<String, ConfigField> m = new LinkedHashMap<>();
        for (ConfigField f : fields) {
            if (m.put(f.id(), f) != null) {
                throw new IllegalArgumentException("field " + f.id() + " twice in " + pid);
            }
        }
        this.fields = Collections.unmodifiableMap(m);
    }

    public String pid() {
        return pid;
    }

    /** The fields, in the Metatype's order. */
    public Map<String, ConfigField> fields() {
        return fields;
    }

    /** The known keys, sorted, as a message lists them. */
    public String knownKeys() {
        return String.join(", ", new TreeSet<>(fields.keySet()));
    }

    /** Whether a key belongs to the framework or a service, not to the configuration. */
    public static boolean infrastructure(String key) {
        return key.startsWith("service.") || key.startsWith("component.") || key.startsWith("felix.")
                || key.startsWith("osgi.") || key.startsWith(".") || key.startsWith(":");
    }

    /**
     * Checks a configuration.
     *
     * @param props its properties; values may be strings (files, the shell) or typed
     * @return every field's value (the default when absent or blank) and every error, each
     *     starting with its key
     */
    public Checked check(Map<String, ?> props) {
        List<String> errors = new ArrayList<>();
        for (String key : new TreeSet<>(props.keySet())) {
            if (!fields.containsKey(key) && !infrastructure(key)) {
                errors.add(key + ": unknown key; the known keys are " + knownKeys());
            }
        }
        Map<String, Object> values = new LinkedHashMap<>();
        for (ConfigField f : fields.values()) {
            Object v = props.get(f.id());
            if (v == null || v.toString().isBlank()) {
                Object d = f.defaultTyped();
                if (d == null && f.required()) {
                    errors.add(f.id() + ": required" + (f.description().isEmpty() ? "" : " (" + f.description() + ")"));
                }
                values.put(f.id(), d);
                continue;
            }
            try {
                values.put(f.id(), f.read(v));
            } catch (IllegalArgumentException e) {
                errors.add(f.id() + ": " + e.getMessage());
                values.put(f.id(), null);
            }
        }
        return new Checked(Collections.unmodifiableMap(values), List.copyOf(errors));
    }
}
