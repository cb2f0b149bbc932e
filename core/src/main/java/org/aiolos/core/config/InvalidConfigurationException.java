package org.aiolos.core.config;

import java.io.Serial;
import java.util.List;

/**
 * A configuration rejected with every reason at once, each starting with its field's name
 * ({@code "port: must be 0..65535, got 70000"}). Its {@link #toString} is its message, so
 * a shell printing the exception shows the reasons and not a class name.
 */
public final class InvalidConfigurationException extends IllegalArgumentException {
    @Serial
    private static final long serialVersionUID = 1L;
    private final transient List<String> errors;

    /**
     * @param subject what was rejected, the start of the message ({@code "io1: update
     *     rejected, nothing stored"}); null for the reasons alone
     * @param errors the reasons, none empty
     */
    public InvalidConfigurationException(String subject, List<String> errors) {
        super(message(subject, errors));
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("a rejection needs at least one reason");
        }
        this.errors = List.copyOf(errors);
    }

    /** The reasons, each starting with its field's name. */
    public List<String> errors() {
        return errors;
    }

    private static String message(String subject, List<String> errors) {
        String reasons = errors.size() == 1 ? errors.get(0) : errors.size() + " errors: " + String.join("; ", errors);
        return subject == null ? reasons : subject + ": " + reasons;
    }

    @Override
    public String toString() {
        return getMessage();
    }
}
