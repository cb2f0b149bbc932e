package org.aiolos.nbd;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** NbdMain started as a child process: waiting for the line that says it is listening. */
final class NbdMainProcess {
    private NbdMainProcess() {
    }

    /**
     * Reads {@code p}'s output (stderr merged) until a line matches {@code want} and returns
     * that match; the rest of the output is drained in the background, so the child never
     * blocks on a full pipe. Fails with everything printed when no line matches within
     * {@code timeoutS} or the output ends first.
     */
    static Matcher awaitLine(Process p, Pattern want, int timeoutS) {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuffer seen = new StringBuffer();
        CompletableFuture<Matcher> found = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    seen.append(line).append('\n');
                    Matcher m = want.matcher(line);
                    if (!found.isDone() && m.matches()) {
                        found.complete(m);
                    }
                }
            } catch (IOException e) {
                // the process is gone
            }
            found.complete(null);
        });
        Matcher m;
        try {
            m = found.get(timeoutS, TimeUnit.SECONDS);
        } catch (Exception e) {
            m = null;
        }
        if (m == null) {
            fail("NbdMain did not print a line matching " + want + "; output:\n" + seen + "\ncommand: "
                    + p.info().commandLine().orElse("?"));
        }
        return m;
    }

    /** The port of NbdMain's "listening on 127.0.0.1:PORT ..." line. */
    static int listeningPort(Process p, int timeoutS) {
        return Integer.parseInt(awaitLine(p, Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+) .*"), timeoutS)
                .group(1));
    }
}
