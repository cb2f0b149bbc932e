package org.aiolos.core.coroutine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The backend choice: continuation when accessible, virtual-thread otherwise, or forced. */
class BackendSelectionTest {

    @Test
    void decideFollowsAccessAndTheProperty() {
        assertEquals(Backend.CONTINUATION, BackendSelector.decide(null, null).backend());
        BackendSelector.Choice fallback = BackendSelector.decide(null, "java.base does not export jdk.internal.vm to x");
        assertEquals(Backend.VIRTUAL_THREAD, fallback.backend());
        assertTrue(fallback.reason().contains("does not export") && fallback.reason().contains("--add-exports"),
                fallback.reason());
        assertTrue(fallback.fallback(), "taken for want of the flag: a warning");
        assertEquals(Backend.VIRTUAL_THREAD, BackendSelector.decide("virtual-thread", null).backend());
        assertTrue(!BackendSelector.decide("virtual-thread", null).fallback(), "asked for: no warning");
        assertTrue(!BackendSelector.decide(null, null).fallback());
        assertTrue(BackendSelector.decide(" virtual-thread ", null).reason().contains("forced"));
        assertEquals(Backend.CONTINUATION, BackendSelector.decide("continuation", null).backend());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> BackendSelector.decide("continuation", "no export"));
        assertTrue(e.getMessage().contains("--add-exports java.base/jdk.internal.vm=ALL-UNNAMED"), e.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> BackendSelector.decide("fibers", null));
        assertTrue(bad.getMessage().contains("aiolos.coroutine.backend") && bad.getMessage().contains("'fibers'"));
    }

    @Test
    void thisJvmHasAccess() {
        assertEquals(null, ContinuationSupport.unavailableReason(), "surefire passes the --add-exports flag");
    }

    @Test
    void childJvmsPickAndLogTheirBackend() throws Exception {
        Run noFlag = runProbe(List.of());
        assertEquals(0, noFlag.exit, noFlag.output);
        assertTrue(noFlag.output.contains("backend=virtual-thread ran=true"), noFlag.output);
        assertTrue(noFlag.output.contains("WARNING: coroutine backend: virtual-thread")
                && noFlag.output.contains("does not export jdk.internal.vm"), noFlag.output);

        Run flag = runProbe(List.of("--add-exports", "java.base/jdk.internal.vm=ALL-UNNAMED"));
        assertTrue(flag.output.contains("backend=continuation ran=true"), flag.output);
        assertTrue(flag.output.contains("coroutine backend: continuation"), flag.output);

        Run forced = runProbe(List.of("--add-exports", "java.base/jdk.internal.vm=ALL-UNNAMED",
                "-Daiolos.coroutine.backend=virtual-thread"));
        assertTrue(forced.output.contains("backend=virtual-thread ran=true"), forced.output);
        assertTrue(forced.output.contains("INFO: coroutine backend: virtual-thread (forced by "
                + "-Daiolos.coroutine.backend=virtual-thread)"), forced.output);

        Run impossible = runProbe(List.of("-Daiolos.coroutine.backend=continuation"));
        assertEquals(3, impossible.exit, impossible.output);
        assertTrue(impossible.output.contains("--add-exports"), impossible.output);
    }

    private record Run(int exit, String output) {
    }

    private static Run runProbe(List<String> jvmArgs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(BackendProbe.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
