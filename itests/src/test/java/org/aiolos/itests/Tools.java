package org.aiolos.itests;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real NBD clients (qemu-img, qemu-io, nbdinfo, nbdcopy, fio) the tests drive the
 * exports with. A missing tool fails the test, naming the script that installs it: these
 * tests must not pass by not running.
 */
final class Tools {
    private Tools() {
    }

    /** The output of a command that exited 0 within {@code timeoutS}; fails otherwise. */
    static String run(long timeoutS, String... command) throws IOException, InterruptedException {
        Result r = exec(timeoutS, command);
        if (r.exit() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + r.exit() + ":\n" + r.output());
        }
        return r.output();
    }

    /** The exit status and output, whatever the status. */
    static Result exec(long timeoutS, String... command) throws IOException, InterruptedException {
        require(command[0]);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        // Read while it runs: a full pipe would block the tool.
        byte[][] out = new byte[1][];
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                out[0] = p.getInputStream().readAllBytes();
            } catch (IOException e) {
                out[0] = ("(output lost: " + e + ")").getBytes(StandardCharsets.UTF_8);
            }
        });
        if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            reader.join(5_000);
            throw new AssertionError(String.join(" ", command) + " did not finish within " + timeoutS + " s");
        }
        reader.join();
        return new Result(p.exitValue(), new String(out[0], StandardCharsets.UTF_8));
    }

    record Result(int exit, String output) {
    }

    /** Fails, naming bin/install-test-tools, when {@code tool} is not on the PATH. */
    static void require(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (new File(dir, tool).canExecute()) {
                return;
            }
        }
        throw new AssertionError(tool + " is not installed; run bin/install-test-tools (it installs qemu-utils,"
                + " libnbd-bin, nbdkit and fio), then run the tests again");
    }

    static void requireAll(List<String> tools) {
        tools.forEach(Tools::require);
    }
}
