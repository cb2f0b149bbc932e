package org.aiolos.karaf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The features repository in a real Apache Karaf (4.4.10, the newest on Maven Central),
 * offline: Karaf's Maven resolver sees only its own system folder and a repository this
 * build filled with the Aiolos bundles (and those of Karaf's scr feature). Karaf installs
 * the {@code aiolos} feature from {@code mvn:org.aiolos/aiolos-karaf/<version>/xml/features}
 * the way it installs boot features, {@code .cfg} files in {@code etc/} make an IOThread
 * and an NBD export, and {@code nbdinfo} and {@code qemu-io} talk to the export. Then Karaf
 * is stopped with SIGTERM and nothing of it is left running.
 *
 * <p>Karaf 4.4.10 predates JDK 24, which this needs two workarounds for (both set here,
 * both in docs/operations-karaf.md): its start script passes
 * {@code -Djava.security.manager=allow}, which JDK 24+ refuses at start, so
 * {@code JAVA_OPTS} replaces its defaults; and its EventAdmin calls
 * {@code Subject.getSubject}, which JDK 24+ no longer supports (every event posted fails
 * and takes the feature installer down with it), so it is left out. Its shell sessions
 * (ssh, console) close at once on JDK 25 for the same reason, which is why the features
 * are installed through {@code etc/org.apache.karaf.features.cfg} rather than by typing
 * {@code feature:repo-add} and {@code feature:install}: the same FeaturesService does it.
 */
class KarafFeaturesIT {
    private static final int MIB = 1 << 20;
    private static final String VERSION = System.getProperty("aiolos.version");

    private Path home;
    private Process karaf;

    @BeforeEach
    void freshKaraf() throws IOException {
        Path dist = Path.of(System.getProperty("karaf.dist"));
        home = dist.resolveSibling("karaf-run");
        deleteTree(home);
        copyTree(dist, home);
        // The features repository, where its mvn: URL says, in the build's repository.
        Path repo = Path.of(System.getProperty("karaf.repo"));
        Path features = repo.resolve("org/aiolos/aiolos-karaf/" + VERSION + "/aiolos-karaf-" + VERSION
                + "-features.xml");
        Files.createDirectories(features.getParent());
        Files.copy(Path.of(System.getProperty("karaf.features")), features, StandardCopyOption.REPLACE_EXISTING);
    }

    @AfterEach
    void stopKaraf() throws InterruptedException {
        if (karaf != null && karaf.isAlive()) {
            karaf.descendants().forEach(ProcessHandle::destroyForcibly);
            karaf.destroyForcibly();
            karaf.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aiolosFeaturesInstallOfflineAndServeAnNbdExport() throws Exception {
        int nbdPort = freePort();
        Path disk = home.resolve("disk.img");
        try (RandomAccessFile raf = new RandomAccessFile(disk.toFile(), "rw")) {
            raf.setLength(16L * MIB);
        }
        configure(nbdPort, disk);

        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/karaf").toString(), "server")
                .directory(home.toFile()).redirectErrorStream(true)
                .redirectOutput(home.resolve("console.log").toFile());
        Map<String, String> env = pb.environment();
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("KARAF_EXEC", "exec"); // the script becomes the JVM: SIGTERM reaches Karaf itself
        env.put("JAVA_OPTS", "-XX:+UnlockDiagnosticVMOptions --sun-misc-unsafe-memory-access=allow "
                + System.getProperty("aiolos.jvm.flags"));
        karaf = pb.start();

        String uri = "nbd://127.0.0.1:" + nbdPort + "/kdisk";
        String info = awaitServing(uri, 180);
        assertTrue(info.contains("export-size: " + 16 * MIB), info);
        String io = run(60, "qemu-io", "-f", "raw", "-c", "write -P 0x6b 1M 2M", "-c", "read -P 0x6b 1M 2M", uri);
        assertFalse(io.contains("Pattern verification failed"), io);
        assertTrue(io.contains("wrote 2097152/2097152"), io);

        String log = Files.readString(home.resolve("data/log/karaf.log"));
        for (String bundle : List.of("org.aiolos.api", "org.aiolos.linux", "org.aiolos.diskio", "org.aiolos.fdmon.poll",
                "org.aiolos.fdmon.epoll", "org.aiolos.fdmon.iouring", "org.aiolos.threadpool", "org.aiolos.linuxaio",
                "org.aiolos.diskio.iouring", "org.aiolos.core", "org.aiolos.nbd")) {
            assertTrue(log.contains(bundle + "/" + VERSION.replace("-SNAPSHOT", ".SNAPSHOT")),
                    "Karaf installed " + bundle + ":\n" + tail(log));
        }
        assertTrue(log.contains("IOThread 'kio' started"), tail(log));
        assertFalse(log.contains("Error installing boot feature"), tail(log));
        List<String> errors = log.lines().filter(l -> l.contains("| ERROR |") && l.contains("org.aiolos")).toList();
        assertEquals(List.of(), errors, "no Aiolos bundle logged an error");
        System.out.println("KarafFeaturesIT: Karaf 4.4.10 on JDK " + Runtime.version().feature()
                + " installed feature aiolos offline; nbdinfo and qemu-io served by " + uri);

        long pid = karaf.pid();
        karaf.destroy(); // SIGTERM: Karaf's shutdown hook stops the framework
        assertTrue(karaf.waitFor(60, TimeUnit.SECONDS), "Karaf stopped within 60 s of SIGTERM");
        assertTrue(ProcessHandle.of(pid).isEmpty() || !ProcessHandle.of(pid).get().isAlive());
        List<String> left = ProcessHandle.allProcesses()
                .filter(ph -> ph.info().commandLine().orElse("").contains(home.toString()))
                .map(ph -> ph.pid() + " " + ph.info().commandLine().orElse("")).toList();
        assertEquals(List.of(), left, "nothing of this Karaf runs any more");
        assertFalse(exec(10, "nbdinfo", uri).exit() == 0, "the export went with Karaf");
    }

    // ---------------------------------------------------------------- Karaf set-up

    private void configure(int nbdPort, Path disk) throws IOException {
        Path etc = home.resolve("etc");
        // Free ports for what Karaf itself listens on (ssh, JMX over RMI).
        edit(etc.resolve("org.apache.karaf.shell.cfg"), "sshPort = 8101", "sshPort = " + freePort());
        edit(etc.resolve("org.apache.karaf.shell.cfg"), "sshHost = 0.0.0.0", "sshHost = 127.0.0.1");
        edit(etc.resolve("org.apache.karaf.management.cfg"), "rmiRegistryPort = 1099",
                "rmiRegistryPort = " + freePort());
        edit(etc.resolve("org.apache.karaf.management.cfg"), "rmiServerPort = 44444", "rmiServerPort = " + freePort());
        // JDK 24+: Karaf's EventAdmin calls Subject.getSubject on every event.
        removeLines(etc.resolve("startup.properties"), "org.apache.karaf.services.eventadmin");
        removeLines(etc.resolve("org.apache.karaf.features.cfg"), "    eventadmin/");
        // Offline: Karaf's system folder and the build's repository, nothing remote.
        Path mvn = etc.resolve("org.ops4j.pax.url.mvn.cfg");
        String m = Files.readString(mvn);
        m = m.replaceAll("(?s)org\\.ops4j\\.pax\\.url\\.mvn\\.repositories=.*?(\\n\\S)", "org.ops4j.pax.url.mvn.repositories=$1");
        m = m.replace("@id=system.repository@snapshots, \\", "@id=system.repository@snapshots, \\\n    "
                + Path.of(System.getProperty("karaf.repo")).toUri() + "@id=aiolos.build@snapshots, \\");
        Files.writeString(mvn, m + "\norg.ops4j.pax.url.mvn.offline=true\n");
        // feature:repo-add and feature:install, as Karaf's boot does them.
        Path features = etc.resolve("org.apache.karaf.features.cfg");
        String f = Files.readString(features);
        f = f.replace("featuresRepositories = \\", "featuresRepositories = \\\n    mvn:org.aiolos/aiolos-karaf/" + VERSION
                + "/xml/features, \\");
        f = f.replace("featuresBoot = \\", "featuresBoot = \\\n    aiolos/" + VERSION.replace("-SNAPSHOT", ".SNAPSHOT")
                + ", \\");
        Files.writeString(features, f);
        // An IOThread and an export, as an operator drops them into etc/.
        Files.writeString(etc.resolve("org.aiolos.iothread-kio.cfg"), "name = kio\n");
        Files.writeString(etc.resolve("org.aiolos.nbd.export-kdisk.cfg"), "name = kdisk\nfile = " + disk
                + "\niothread = kio\nport = " + nbdPort + "\n");
    }

    private String awaitServing(String uri, int timeoutS) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
        Result last = null;
        while (System.nanoTime() < deadline) {
            if (!karaf.isAlive()) {
                fail("Karaf exited " + karaf.exitValue() + ":\n" + Files.readString(home.resolve("console.log")));
            }
            last = exec(30, "nbdinfo", uri);
            if (last.exit() == 0) {
                return last.output();
            }
            Thread.sleep(1000);
        }
        Path log = home.resolve("data/log/karaf.log");
        fail("nothing served " + uri + " within " + timeoutS + " s; nbdinfo: " + last.output() + "\nkaraf.log:\n"
                + (Files.exists(log) ? tail(Files.readString(log)) : "(none)"));
        return null;
    }

    private static void edit(Path file, String from, String to) throws IOException {
        String s = Files.readString(file);
        if (!s.contains(from)) {
            throw new IllegalStateException(file + " has no line '" + from + "' (another Karaf version?)");
        }
        Files.writeString(file, s.replace(from, to));
    }

    private static void removeLines(Path file, String containing) throws IOException {
        List<String> kept = new ArrayList<>();
        for (String l : Files.readAllLines(file)) {
            if (!l.contains(containing)) {
                kept.add(l);
            }
        }
        Files.write(file, kept);
    }

    private static String tail(String log) {
        List<String> lines = log.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    }

    // ---------------------------------------------------------------- processes, files, ports

    record Result(int exit, String output) {
    }

    private static String run(int timeoutS, String... command) throws IOException, InterruptedException {
        Result r = exec(timeoutS, command);
        if (r.exit() != 0) {
            fail(String.join(" ", command) + " exited " + r.exit() + ":\n" + r.output());
        }
        return r.output();
    }

    /** Runs a client tool; a missing one fails naming bin/install-test-tools. */
    private static Result exec(int timeoutS, String... command) throws IOException, InterruptedException {
        boolean found = Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, command[0])));
        if (!found) {
            fail(command[0] + " is not installed; run bin/install-test-tools");
        }
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[][] out = new byte[1][];
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                out[0] = p.getInputStream().readAllBytes();
            } catch (IOException e) {
                out[0] = e.toString().getBytes(StandardCharsets.UTF_8);
            }
        });
        if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " did not finish within " + timeoutS + " s");
        }
        reader.join();
        return new Result(p.exitValue(), new String(out[0], StandardCharsets.UTF_8));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
