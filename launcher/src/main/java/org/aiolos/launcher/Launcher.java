package org.aiolos.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * Starts the Aiolos distribution: Felix with every jar of {@code <home>/bundle} installed
 * and started, the configuration files of {@code <home>/conf} (or {@code -Daiolos.conf})
 * handed to Config Admin before the Aiolos bundles start, and the Gogo shell on the
 * console. Exits when the framework stops ({@code stop 0} in the shell, or a signal).
 */
public final class Launcher {
    private static final String CONFIG_ADMIN = "org.apache.felix.configadmin";

    private Launcher() {
    }

    public static void main(String[] args) throws Exception {
        Path home = Path.of(System.getProperty("aiolos.home", ".")).toAbsolutePath().normalize();
        Path conf = Path.of(System.getProperty("aiolos.conf", home.resolve("conf").toString()));
        Path cache = Path.of(System.getProperty("aiolos.cache", home.resolve("cache").toString()));
        long t0 = System.nanoTime();
        quietLogging();

        Map<String, String> fw = new HashMap<>();
        fw.put(Constants.FRAMEWORK_STORAGE, cache.toString());
        fw.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        Framework framework = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"))
                .newFramework(fw);
        framework.start(); // empty yet: bundles started now start at once, in the order below
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> stopQuietly(framework)));

        List<Bundle> bundles = install(framework, home.resolve("bundle"));
        // Config Admin first, so the IOThreads of conf/ exist before core starts (no
        // default IOThread that is replaced a moment later).
        for (Bundle b : bundles) {
            if (CONFIG_ADMIN.equals(b.getSymbolicName())) {
                b.start();
            }
        }
        int configs = new ConfFolder(conf).apply(framework.getBundleContext());
        for (Bundle b : bundles) {
            if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                b.start();
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("Aiolos: %s %s started %d bundles in %d ms; %d configuration(s) from %s%n",
                framework.getSymbolicName(), framework.getVersion(), bundles.size(), ms, configs, conf);
        System.out.println("Shell commands: aio:contexts  aio:backends  aio:use <context> [aio-engine] <name>  aio:top  aio:bench"
                + "  aio:configure <name> [key=value ...]  aio:unconfigure <name>"
                + "  nbd:list  nbd:export <name> <file> [key=value ...]  nbd:close <name>  lb  scr:list  stop 0 (quit)");
        framework.waitForStop(0);
        System.exit(0);
    }

    /**
     * The bundles log through {@code System.Logger} (java.util.logging here); INFO lines
     * would interleave with the shell, so the console shows warnings and errors unless
     * {@code -Daiolos.log=INFO} (or another level) asks for more.
     */
    private static void quietLogging() {
        Level level = Level.parse(System.getProperty("aiolos.log", "WARNING"));
        Logger root = Logger.getLogger("");
        root.setLevel(level);
        for (Handler h : root.getHandlers()) {
            h.setLevel(level);
        }
    }

    private static List<Bundle> install(Framework framework, Path dir) throws Exception {
        List<Path> jars;
        try (Stream<Path> s = Files.list(dir)) {
            jars = s.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
        }
        if (jars.isEmpty()) {
            throw new IllegalStateException("no bundles in " + dir);
        }
        List<Bundle> out = new ArrayList<>();
        for (Path jar : jars) {
            out.add(framework.getBundleContext().installBundle(jar.toUri().toString()));
        }
        return out;
    }

    private static void stopQuietly(Framework framework) {
        try {
            if ((framework.getState() & (Bundle.ACTIVE | Bundle.STARTING)) != 0) {
                framework.stop();
                framework.waitForStop(10_000);
            }
        } catch (BundleException | InterruptedException e) {
            System.err.println("aiolos: stopping the framework: " + e);
        }
    }

}
