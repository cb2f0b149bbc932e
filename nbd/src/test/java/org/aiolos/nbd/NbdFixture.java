package org.aiolos.nbd;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.IOThread;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.BackendProviders;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.DiskIoEngineProviders;

/** An IOThread with an NBD server on 127.0.0.1, image files, and a runner for the client tools. */
final class NbdFixture implements AutoCloseable {
    private static int serial;

    final IOThread io;
    final AiolosContext ctx;
    final NbdServer server;

    NbdFixture(String engine, String fdmon) throws IOException {
        this(engine, fdmon, TlsSettings.DISABLED);
    }

    /**
     * A server offering TLS. The handshake timeout is a minute: a JVM's first TLS handshakes
     * run the JDK's crypto code uncompiled, which on a machine other work keeps busy can take
     * longer than the 10 s default. Tests of the timeout set their own.
     */
    NbdFixture(TlsSettings tls) throws IOException {
        this(null, null, tls);
        server.setHandshakeTimeout(java.time.Duration.ofMinutes(1));
    }

    NbdFixture(String engine, String fdmon, TlsSettings tls) throws IOException {
        if (engine != null) {
            requireEngine(engine);
        }
        io = Aiolos.newIOThread(ContextOptions.ioThreadDefaults(uniqueName()).withDiskEngine(engine)
                .withFdMonitor(fdmon));
        io.start();
        ctx = (AiolosContext) io.context();
        NbdServer s;
        try {
            s = NbdServer.start(ctx, "127.0.0.1", 0, tls);
        } catch (IOException | RuntimeException e) {
            io.close();
            throw e;
        }
        server = s;
    }

    NbdFixture() throws IOException {
        this(null, null);
    }

    static synchronized String uniqueName() {
        return "nbd-test-" + (++serial);
    }

    /** Skips (with the reason) when this kernel cannot run {@code engine}. */
    /** Skips the test unless an engine provider named {@code engine} is available; returns the name. */
    static String requireEngine(String engine) {
        DiskIoEngineProviders providers = DiskIoEngineProviders.system();
        for (BackendProviders.Provider<DiskIoEngineFactory> p : providers.list()) {
            if (p.name().equals(engine)) {
                String why = providers.unavailableReason(p.factory());
                assumeTrue(why == null, () -> "disk-I/O engine " + engine + " unavailable here: " + why);
                return engine;
            }
        }
        fail("no disk-I/O engine provider named " + engine + " on the test class path");
        return null;
    }

    String uri(String name) {
        return "nbd://127.0.0.1:" + server.port() + "/" + name;
    }

    /** A file of {@code size} bytes of seeded pseudo-random data. */
    static Path image(Path dir, String name, long size, long seed) throws IOException {
        Path p = dir.resolve(name);
        byte[] data = new byte[(int) size];
        new Random(seed).nextBytes(data);
        Files.write(p, data);
        return p;
    }

    @Override
    public void close() {
        try {
            server.close();
        } finally {
            io.close();
        }
    }

    // ------------------------------------------------------------------ client tools

    record Result(int exit, String output) {
    }

    /** Fails, naming bin/install-test-tools, when {@code tool} is not on the PATH. */
    static void requireTool(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return;
            }
        }
        fail(tool + " is not installed: run bin/install-test-tools (it installs qemu-utils, libnbd-bin, nbdkit"
                + " and fio)");
    }

    /** Runs a command with a timeout, returning its exit status and merged output. */
    static Result run(int timeoutS, String... cmd) {
        return run(java.util.Map.of(), timeoutS, cmd);
    }

    /** Like {@link #run(int, String...)}, with {@code env} added to the environment. */
    static Result run(java.util.Map<String, String> env, int timeoutS, String... cmd) {
        requireTool(cmd[0]);
        // Run in the temp directory: tools may leave files in their working directory
        // (fio's verify state), and those must not land in the source tree.
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .directory(new java.io.File(System.getProperty("java.io.tmpdir")));
        pb.environment().put("LC_ALL", "C");
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            StringBuilder out = new StringBuilder();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (InputStream in = p.getInputStream()) {
                    out.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException e) {
                    out.append("[output lost: ").append(e).append(']');
                }
            });
            if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                reader.join(5000);
                fail(String.join(" ", cmd) + ": timed out after " + timeoutS + " s; output:\n" + out);
            }
            reader.join(5000);
            return new Result(p.exitValue(), out.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Runs a command that must exit 0; returns its output. */
    static String ok(int timeoutS, String... cmd) {
        Result r = run(timeoutS, cmd);
        if (r.exit() != 0) {
            fail(String.join(" ", cmd) + ": exit " + r.exit() + "; output:\n" + r.output());
        }
        return r.output();
    }

    static List<String> qemuIo(String uri, String... commands) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(uri);
        return cmd;
    }
}
