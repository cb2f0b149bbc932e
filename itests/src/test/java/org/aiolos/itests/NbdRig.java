package org.aiolos.itests;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.apache.felix.service.command.CommandProcessor;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * What the NBD integration tests share: IOThread and export configurations made through
 * Config Admin (deleted again by {@link #close}), images in a temporary folder, the shell,
 * free ports.
 */
final class NbdRig implements AutoCloseable {
    static final String EXPORT_PID = "org.aiolos.nbd.export";
    static final int MIB = 1 << 20;

    private final BundleContext bc;
    private final ConfigurationAdmin cm;
    private final CommandProcessor gogo;
    final Path dir;
    /** The configurations made (with their PIDs: a deleted one no longer says), deleted by {@link #close}. */
    private final List<Made> made = new ArrayList<>();

    private record Made(Configuration configuration, String pid) {
    }

    NbdRig(BundleContext bc, ConfigurationAdmin cm, CommandProcessor gogo, String prefix) throws IOException {
        this.bc = bc;
        this.cm = cm;
        this.gogo = gogo;
        this.dir = Files.createTempDirectory(prefix);
    }

    /** An IOThread configuration; returns once its context is a service. */
    Configuration iothread(String name, String... keyValues) throws Exception {
        Configuration c = cm.getFactoryConfiguration("org.aiolos.iothread", name, "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("name", name);
        for (int i = 0; i < keyValues.length; i += 2) {
            p.put(keyValues[i], keyValues[i + 1]);
        }
        c.update(p);
        made.add(new Made(c, c.getPid()));
        Contexts.await(bc, name);
        return c;
    }

    /** A factory configuration of an export, as a .cfg file or a management tool makes it. */
    Configuration export(String name, Path file, Object... keyValues) throws Exception {
        return exportAs(name + "-" + System.nanoTime(), name, file, keyValues);
    }

    /** As {@link #export}, under PID {@code org.aiolos.nbd.export~<configName>} (its order among others is chosen). */
    Configuration exportAs(String configName, String name, Path file, Object... keyValues) throws Exception {
        Configuration c = cm.getFactoryConfiguration(EXPORT_PID, configName, "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("name", name);
        p.put("file", file.toString());
        for (int i = 0; i < keyValues.length; i += 2) {
            p.put((String) keyValues[i], keyValues[i + 1]);
        }
        c.update(p);
        made.add(new Made(c, c.getPid()));
        return c;
    }

    /** Forgets a configuration the test deleted itself. */
    void deleted(Configuration c) {
        made.removeIf(m -> m.configuration() == c);
    }

    void awaitServing(String name) throws InterruptedException {
        Await.until(() -> name + " serving; nbd:list:\n" + run("nbd:list"), 10_000,
                () -> Pattern.compile("(?m)^" + Pattern.quote(name) + "\\s+serving\\s").matcher(run("nbd:list"))
                        .find());
    }

    String run(String command) {
        try {
            return Gogo.run(gogo, command);
        } catch (Exception e) {
            throw new AssertionError(command + ": " + e, e);
        }
    }

    /** A {@code mib} MiB image, sparse or filled with seeded random bytes. */
    Path image(String name, int mib, boolean random) throws IOException {
        Path f = dir.resolve(name);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength((long) mib * MIB);
            if (random) {
                byte[] chunk = new byte[MIB];
                Random r = new Random(mib);
                for (int i = 0; i < mib; i++) {
                    r.nextBytes(chunk);
                    raf.write(chunk);
                }
            }
        }
        return f;
    }

    static byte byteAt(Path f, long offset) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
            raf.seek(offset);
            return raf.readByte();
        }
    }

    static String uri(int port, String name) {
        return "nbd://127.0.0.1:" + port + "/" + name;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws IOException {
        // Looked up afresh: a test may have restarted Config Admin, whose old service the
        // injected one then is.
        ConfigurationAdmin now = bc.getService(bc.getServiceReference(ConfigurationAdmin.class));
        for (Made m : made.reversed()) {
            String pid = m.pid();
            try {
                Configuration[] found = now.listConfigurations("(service.pid=" + pid + ")");
                if (found != null) {
                    for (Configuration c : found) {
                        c.delete();
                    }
                }
            } catch (org.osgi.framework.InvalidSyntaxException e) {
                throw new IllegalStateException(e);
            }
        }
        made.clear();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                // A Unix socket file may go meanwhile: its listener closes with the deleted export.
                Files.deleteIfExists(f);
            }
        }
        Files.delete(dir);
    }
}
