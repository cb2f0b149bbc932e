package org.aiolos.nbd;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NbdMain started as a child process, its output (stderr merged) read line by line from
 * the start, so the child never blocks on a full pipe and a test can look for a line
 * printed at any time. {@link #close} stops it as SIGTERM does.
 */
final class NbdMainProcess implements AutoCloseable {
    final Process process;
    /** Every line printed so far; guarded by itself, which is notified on each new line and at the end. */
    private final List<String> lines = new ArrayList<>();
    private boolean ended;

    private NbdMainProcess(Process process) {
        this.process = process;
        BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Thread.ofVirtual().start(() -> {
            try {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    synchronized (lines) {
                        lines.add(line);
                        lines.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the process is gone
            }
            synchronized (lines) {
                ended = true;
                lines.notifyAll();
            }
        });
    }

    static NbdMainProcess start(List<String> command) throws IOException {
        return new NbdMainProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /**
     * The first line printed so far or within {@code timeoutS} that matches {@code want}.
     * Fails with everything printed when none does, or when the output ends first.
     */
    Matcher awaitLine(Pattern want, int timeoutS) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
        synchronized (lines) {
            int seen = 0;
            while (true) {
                for (; seen < lines.size(); seen++) {
                    Matcher m = want.matcher(lines.get(seen));
                    if (m.matches()) {
                        return m;
                    }
                }
                long left = deadline - System.nanoTime();
                if (ended || left <= 0) {
                    fail("NbdMain did not print a line matching " + want + "; output:\n" + String.join("\n", lines)
                            + "\ncommand: " + process.info().commandLine().orElse("?"));
                }
                TimeUnit.NANOSECONDS.timedWait(lines, left);
            }
        }
    }

    /** The port of NbdMain's "listening on 127.0.0.1:PORT ..." line. */
    int listeningPort(int timeoutS) throws InterruptedException {
        return Integer.parseInt(awaitLine(Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+) .*"), timeoutS).group(1));
    }

    /** The lines printed so far that match {@code p}. */
    List<String> linesMatching(Pattern p) {
        synchronized (lines) {
            return lines.stream().filter(l -> p.matcher(l).matches()).toList();
        }
    }

    /** Stops the child with SIGTERM, as a user does; fails when it does not exit within 30 s. */
    @Override
    public void close() {
        process.destroy();
        boolean exited;
        try {
            exited = process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the test is being stopped: no child outlives it
            exited = false;
        }
        if (!exited) {
            process.destroyForcibly();
            fail("NbdMain did not exit on SIGTERM");
        }
    }
}
