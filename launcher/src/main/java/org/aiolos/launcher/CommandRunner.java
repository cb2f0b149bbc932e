package org.aiolos.launcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * The non-interactive shell: runs Gogo commands one line at a time (from {@code --run FILE}
 * or from stdin when it is not a terminal), prints each result as the interactive shell
 * would, and stops at the first command that throws, so a script's exit status says
 * whether all of it worked. Blank lines and lines starting with {@code #} are skipped.
 *
 * <p>Gogo's API lives in its runtime bundle, not on the launcher's class path, so the
 * command processor is called reflectively through that bundle's classes.
 */
final class CommandRunner {
    private static final String PROCESSOR = "org.apache.felix.service.command.CommandProcessor";
    private static final String SESSION = "org.apache.felix.service.command.CommandSession";
    /** {@code Converter.INSPECT}: the format the interactive shell prints results in. */
    private static final int INSPECT = 0;

    private final BundleContext bc;
    private final PrintStream out;
    private final PrintStream err;

    CommandRunner(BundleContext bc, PrintStream out, PrintStream err) {
        this.bc = bc;
        this.out = out;
        this.err = err;
    }

    /**
     * @param source what the lines are, for messages ({@code stdin}, a file name)
     * @param stopped whether the framework has stopped (a {@code stop 0} in the script)
     * @return the exit status: 0 when every command succeeded, 1 at the first failure
     */
    int run(BufferedReader lines, String source, java.util.function.BooleanSupplier stopped)
            throws IOException, ReflectiveOperationException {
        ServiceReference<?> ref = bc.getServiceReference(PROCESSOR);
        if (ref == null) {
            err.println("aiolos: no Gogo command processor is running; cannot run " + source);
            return 1;
        }
        Bundle gogo = ref.getBundle();
        Class<?> processorType = gogo.loadClass(PROCESSOR);
        Class<?> sessionType = gogo.loadClass(SESSION);
        Method create = processorType.getMethod("createSession", InputStream.class, OutputStream.class,
                OutputStream.class);
        Method execute = sessionType.getMethod("execute", CharSequence.class);
        Method format = sessionType.getMethod("format", Object.class, int.class);
        Method close = sessionType.getMethod("close");
        Object processor = bc.getService(ref);
        Object session = create.invoke(processor, InputStream.nullInputStream(), out, err);
        try {
            int lineNo = 0;
            for (String line; (line = lines.readLine()) != null; ) {
                lineNo++;
                String command = line.strip();
                if (command.isEmpty() || command.startsWith("#")) {
                    continue;
                }
                try {
                    Object result = execute.invoke(session, command);
                    if (result != null) {
                        out.println(format.invoke(session, result, INSPECT));
                    }
                    out.flush();
                } catch (InvocationTargetException e) {
                    Throwable cause = e.getCause();
                    if (stopped.getAsBoolean()) {
                        return 0; // the command stopped the framework (stop 0): nothing left to run
                    }
                    err.println("aiolos: " + source + ":" + lineNo + ": " + command + ": " + cause);
                    return 1;
                }
                if (stopped.getAsBoolean()) {
                    return 0;
                }
            }
            return 0;
        } finally {
            try {
                close.invoke(session);
            } catch (InvocationTargetException | IllegalStateException ignored) {
                // the framework may have stopped under the session
            }
            try {
                bc.ungetService(ref);
            } catch (IllegalStateException ignored) {
                // the framework has stopped
            }
        }
    }
}
