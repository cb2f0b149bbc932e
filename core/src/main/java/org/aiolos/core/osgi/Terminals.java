package org.aiolos.core.osgi;

import org.apache.felix.service.command.CommandSession;

/**
 * Whether a shell session writes to a terminal, for commands that redraw in place. The
 * JLine Gogo shell puts its terminal in the session's {@value #TERMINAL} variable; a
 * session without one (a script, a test, a remote client) gets plain output, and so does
 * JLine's "dumb" terminal. Read by name so that core needs no JLine classes.
 */
final class Terminals {
    /** The session variable gogo.jline's shell keeps its JLine {@code Terminal} in. */
    static final String TERMINAL = ".terminal";

    private Terminals() {
    }

    static boolean isTerminal(CommandSession session) {
        Object t = session == null ? null : session.get(TERMINAL);
        if (t == null) {
            return false;
        }
        try {
            Object type = t.getClass().getMethod("getType").invoke(t);
            return type != null && !type.toString().startsWith("dumb");
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }
}
