package org.aiolos.core.config;

import java.io.Serial;

/**
 * A shell command that was called correctly but cannot do what it was asked (no context
 * of that name, an unknown backend, a file that cannot be saved). Thrown rather than
 * returned as text, so that the shell shows it as a failure (in red) and a script stops
 * at it with status 1, as it does for a {@link InvalidConfigurationException} or a
 * {@link UsageException}; a returned message looked like success and the script went on.
 * Its {@link #toString} is its message, so no class name is printed.
 */
public final class RefusedException extends IllegalArgumentException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** @param reason the whole message, starting with what was refused */
    public RefusedException(String reason) {
        super(reason);
    }

    @Override
    public String toString() {
        return getMessage();
    }
}
