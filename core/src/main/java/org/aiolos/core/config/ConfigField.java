package org.aiolos.core.config;

import java.util.List;
import java.util.Objects;

/**
 * One field of a configuration, as its Metatype describes it: name, type, default, bounds
 * and options. {@link #read} turns a configuration value (a string from a file or the
 * shell, or a typed value from another Config Admin client) into the field's type or says
 * what is wrong with it.
 *
 * <p>The rules are strict so that what is stored is what was meant: integers are written
 * as {@link Long#toString} writes them (digits, a minus sign for a negative number, no
 * {@code +}, no {@code -0}, no leading zeros), booleans are {@code true} or {@code false},
 * a value with options is one of them.
 *
 * @param id the property name
 * @param type the value's type
 * @param defaultValue the default as the Metatype writes it; null when there is none
 * @param min the smallest value of a number; null when unbounded
 * @param max the largest value of a number; null when unbounded
 * @param options the allowed values; empty when any value goes
 * @param required whether a configuration must give a value (when there is no default)
 * @param description what the field means, for messages
 */
public record ConfigField(String id, Type type, String defaultValue, Long min, Long max, List<String> options,
                          boolean required, String description) {

    /** The types a field can have. */
    public enum Type {
        STRING, LONG, INTEGER, BOOLEAN
    }

    public ConfigField {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(type, "type");
        options = List.copyOf(options);
        description = description == null ? "" : description;
    }

    /** The default in the field's type; null when there is none. */
    public Object defaultTyped() {
        if (defaultValue == null) {
            return null;
        }
        try {
            return read(defaultValue);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("the Metatype default of " + id + " is invalid: " + e.getMessage(), e);
        }
    }

    /**
     * @param value a present, non-blank value
     * @return the value in the field's type
     * @throws IllegalArgumentException saying what is wrong (without the field's name)
     */
    public Object read(Object value) {
        return switch (type) {
            case STRING -> option(value.toString().trim());
            case BOOLEAN -> bool(value);
            case LONG, INTEGER -> number(value);
        };
    }

    private Object option(String s) {
        if (!options.isEmpty() && !options.contains(s)) {
            throw new IllegalArgumentException("must be " + optionList() + ", got '" + s + "'");
        }
        return s;
    }

    private String optionList() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < options.size(); i++) {
            String o = options.get(i);
            sb.append(i == 0 ? "" : i == options.size() - 1 ? " or " : ", ").append(o.isEmpty() ? "empty" : o);
        }
        return sb.toString();
    }

    private static Object bool(Object value) {
        if (value instanceof Boolean b) {
            return b;
        }
        String s = value.toString().trim();
        return switch (s) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> throw new IllegalArgumentException("must be true or false, got '" + s + "'");
        };
    }

    private Object number(Object value) {
        long n;
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            n = ((Number) value).longValue();
        } else {
            String s = value.toString().trim();
            try {
                n = Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an integer: '" + s + "'", e);
            }
            if (!s.equals(Long.toString(n))) {
                throw new IllegalArgumentException("write the integer plainly (" + n + "), got '" + s + "'");
            }
        }
        if ((min != null && n < min) || (max != null && n > max)) {
            throw new IllegalArgumentException((min != null && max != null ? "must be " + min + ".." + max
                    : min != null ? "must be >= " + min : "must be <= " + max) + ", got " + n);
        }
        if (type == Type.INTEGER && (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE)) {
            throw new IllegalArgumentException("must be <= " + Integer.MAX_VALUE + ", got " + n);
        }
        if (type == Type.INTEGER) {
            return Integer.valueOf((int) n); // not in a ?: with a Long, which would widen it back to a Long
        }
        return Long.valueOf(n);
    }
}
