package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Cold start equals warm: on every monitor, a fresh JVM whose first action is the
 * adaptive-polling scenario with readiness visible only through a poll callback
 * ({@link ColdStartProbe}). poll-max-ns is 100 us, below what a cold JVM's first wait
 * takes (0.35-23 ms measured) and above a warm one's: before a monitor's cold waits were
 * left unmeasured, that first wait shrank the handler's poll time to 0 and the probe's
 * second blocking poll slept forever (seen on poll and epoll, and on io_uring at this
 * maximum).
 */
class ColdStartTest {

    @ParameterizedTest(name = "{1}")
    @CsvSource({
        "org.aiolos.fdmon.poll.PollFdMonitorFactory, poll",
        "org.aiolos.fdmon.epoll.EpollFdMonitorFactory, epoll",
        "org.aiolos.fdmon.iouring.IoUringFdMonitorFactory, io_uring",
    })
    void theFirstThingAFreshJvmDoesDoesNotHangOnColdWaits(String factory, String monitor) throws Exception {
        Run run = probe(factory, monitor, 100_000);
        assertTrue(run.finished, "the probe JVM on " + monitor + " did not finish within 60 s: its blocking poll"
                + " never saw work that only the poll callback shows. Output:\n" + run.output);
        if (run.output.contains("monitor unavailable: ")) {
            org.junit.jupiter.api.Assumptions.abort("monitor " + monitor + " unavailable here: " + run.output);
        }
        assertEquals(0, run.exit, run.output);
        assertTrue(run.output.contains("monitor " + monitor + ": after the first dispatch fd reads 1, poll time "
                + "4000 ns"), run.output);
        assertTrue(run.output.contains("busy polling found the work: poll-ready 1, fd reads 1"), run.output);
    }

    private record Run(boolean finished, int exit, String output) {
    }

    private static Run probe(String factory, String monitor, long maxNs) throws IOException, InterruptedException {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                ColdStartProbe.class.getName(), factory, monitor, Long.toString(maxNs));
        Path out = java.nio.file.Files.createTempFile("cold-start-" + monitor, ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            boolean finished = p.waitFor(60, TimeUnit.SECONDS);
            if (!finished) {
                p.destroyForcibly().waitFor();
            }
            String text = java.nio.file.Files.readString(out, StandardCharsets.UTF_8);
            return new Run(finished, finished ? p.exitValue() : -1, text);
        } finally {
            java.nio.file.Files.deleteIfExists(out);
        }
    }
}
