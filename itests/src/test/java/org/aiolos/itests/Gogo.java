package org.aiolos.itests;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;

/** Runs a shell command through Gogo's command processor, as a user at the prompt would. */
final class Gogo {
    private Gogo() {
    }

    /**
     * What the command printed, then what it returned, or the message it failed with when
     * it was refused (a rejected configuration, a wrong call: what the shell shows in red).
     */
    static String run(CommandProcessor gogo, String command) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        CommandSession session = gogo.createSession(new ByteArrayInputStream(new byte[0]), out, out);
        try {
            Object result;
            try {
                result = session.execute(command);
            } catch (IllegalArgumentException refused) {
                result = refused.toString();
            }
            out.flush();
            return buf.toString(StandardCharsets.UTF_8) + (result == null ? "" : result.toString());
        } finally {
            session.close();
        }
    }

    /**
     * The message {@code command} was refused with: it must fail (throw, as the shell shows
     * in red and a script stops at), not return its refusal as if it had worked.
     */
    static String refusal(CommandProcessor gogo, String command) throws Exception {
        CommandSession session = gogo.createSession(new ByteArrayInputStream(new byte[0]), System.out, System.out);
        try {
            Object result = session.execute(command);
            throw new AssertionError("'" + command + "' was not refused; it returned: " + result);
        } catch (IllegalArgumentException refused) {
            return refused.toString();
        } finally {
            session.close();
        }
    }
}
