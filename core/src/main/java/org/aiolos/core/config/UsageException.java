package org.aiolos.core.config;

import java.io.Serial;

/**
 * A shell command called the wrong way: the message says what was wrong and how to call
 * it. Its {@link #toString} is its message, so a shell printing the exception shows the
 * usage and not a class name; a script running the command fails on it.
 */
public final class UsageException extends IllegalArgumentException {
    @Serial
    private static final long serialVersionUID = 1L;

    /**
     * @param problem what was wrong with the call; null when the caller asked for the usage
     * @param usage how to call the command
     */
    public UsageException(String problem, String usage) {
        super(problem == null ? usage : problem + "\n" + usage);
    }

    @Override
    public String toString() {
        return getMessage();
    }
}
