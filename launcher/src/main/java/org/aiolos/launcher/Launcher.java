package org.aiolos.launcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.startlevel.FrameworkStartLevel;
import org.osgi.framework.wiring.BundleWiring;

/**
 * Starts the Aiolos distribution: Felix with every jar of {@code <home>/bundle}, the
 * configurations of {@code <home>/conf} (or {@code -Daiolos.conf}) watched by Apache Felix
 * FileInstall, and then the JLine Gogo shell, a script, or nothing (a server); see
 * {@link LaunchOptions#USAGE}.
 *
 * <p>What lasts across restarts: the framework cache ({@code <home>/cache}, or
 * {@code -Daiolos.cache}) is kept, with Config Admin's store and FileInstall's state in it;
 * {@code --clean} deletes it. The bundles follow {@code bundle/} ({@link BundleSync}); the
 * configurations follow {@code conf/} ({@link StaleConfigurations}, then FileInstall).
 *
 * <p>Bundles start in five start levels, so that each step sees the previous one done:
 * 1 Config Admin (then stale file configurations are deleted), 2 FileInstall (its first
 * scan of conf/ creates every configuration before core and nbd start), 3 the libraries and
 * the backends, 4 core (its IOThreads find every backend registered, rather than starting
 * on poll and swapping as each appears), 5 the applications on it (the NBD server, the echo
 * demo). The framework stops levels from the top, so on the way out the applications end
 * their connections while every backend still serves them, and the IOThreads close before
 * their backends go: within one level Felix stops the newest bundle first, and the thread
 * pool going before the NBD server left a TLS handshake's task waiting backend-wait-ms
 * (30 s) for a pool that was not coming back.
 * The interactive shell starts last, and only on a terminal ({@link #startShell}).
 */
public final class Launcher {
    private static final String CONFIG_ADMIN = "org.apache.felix.configadmin";
    private static final String FILEINSTALL = "org.apache.felix.fileinstall";
    private static final String SHELL = "org.apache.felix.gogo.jline";
    private static final String JLINE = "org.jline";
    private static final int LEVEL_CONFIG_ADMIN = 1;
    private static final int LEVEL_FILEINSTALL = 2;
    private static final int LEVEL_RUNTIME = 3;
    private static final int LEVEL_CORE = 4;
    private static final int LEVEL_APPLICATIONS = 5;
    /** The bundle whose IOThreads use the backends: started after them, stopped before them. */
    static final String CORE = "org.aiolos.core";
    /** The bundles that use the runtime and provide none of it: started after it, stopped before it. */
    static final Set<String> APPLICATIONS = Set.of("org.aiolos.nbd", "org.aiolos.demo");
    /** How often FileInstall looks at conf/ (ms): an edited file applies within this. */
    static final String POLL_MS = "1000";

    private Launcher() {
    }

    public static void main(String[] args) throws Exception {
        // Before anything touches java.util.logging (bin/aiolos sets it on the command line too).
        if (System.getProperty("java.util.logging.manager") == null) {
            System.setProperty("java.util.logging.manager", ShutdownLogManager.class.getName());
        }
        LaunchOptions options;
        try {
            options = LaunchOptions.parse(args, stdinIsTerminal());
        } catch (IllegalArgumentException e) {
            System.err.println("aiolos: " + e.getMessage());
            System.err.println(LaunchOptions.USAGE);
            System.exit(2);
            return;
        }
        switch (options.mode()) {
            case HELP -> {
                System.out.println(LaunchOptions.USAGE);
                System.exit(0);
            }
            case VERSION -> {
                System.out.println(versions());
                System.exit(0);
            }
            default -> System.exit(run(options));
        }
    }

    private static int run(LaunchOptions options) throws Exception {
        long t0 = System.nanoTime();
        Path home = Path.of(System.getProperty("aiolos.home", ".")).toAbsolutePath().normalize();
        Path conf = Path.of(System.getProperty("aiolos.conf", home.resolve("conf").toString())).toAbsolutePath()
                .normalize();
        Path cache = Path.of(System.getProperty("aiolos.cache", home.resolve("cache").toString())).toAbsolutePath()
                .normalize();
        if (!Files.isDirectory(conf)) {
            // Started anyway, it served nothing and deleted every stored configuration as stale.
            System.err.println("aiolos: the configuration folder " + conf + (Files.exists(conf) ? " is not a folder"
                    : " does not exist") + " (AIOLOS_CONF, -Daiolos.conf); nothing started");
            return 2;
        }
        BufferedReader script = null;
        if (options.mode() == LaunchOptions.Mode.SCRIPT) {
            try {
                script = options.script() == null
                        ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
                        : Files.newBufferedReader(options.script());
            } catch (IOException e) {
                System.err.println("aiolos: --run " + options.script() + ": cannot read it: " + e.getMessage());
                return 2;
            }
        }
        String logging = LogSetup.configure(home, conf);
        UnreadableConfigFiles.install(); // FileInstall's parse failures as one line, not a trace
        if (!CacheLock.take(cache)) {
            System.err.println("aiolos: another Aiolos runs on the framework cache " + cache + " (it holds "
                    + CacheLock.file(cache) + "); stop it, or give this one a cache of its own with"
                    + " -Daiolos.cache=DIR (AIOLOS_JAVA_OPTS)");
            return 2;
        }
        if (options.clean()) {
            deleteTree(cache);
        }
        // A script's output is its commands' output: the start-up announcements stay out of it.
        boolean announce = options.mode() != LaunchOptions.Mode.SCRIPT;
        System.setProperty("aiolos.nbd.announce", System.getProperty("aiolos.nbd.announce", String.valueOf(announce)));
        System.setProperty("aiolos.demo.announce", System.getProperty("aiolos.demo.announce",
                String.valueOf(announce)));

        Framework framework = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"))
                .newFramework(frameworkProperties(cache, conf));
        framework.init(); // installed bundles are known, none runs yet
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("aiolos-shutdown")
                .unstarted(() -> stopQuietly(framework)));
        BundleSync.Result bundles = BundleSync.sync(framework, home.resolve("bundle"));
        Bundle shell = null;
        for (Bundle b : bundles.bundles()) {
            String bsn = b.getSymbolicName();
            b.adapt(BundleStartLevel.class).setStartLevel(startLevel(bsn));
            if (SHELL.equals(bsn)) {
                shell = b;
                b.stop(); // never started with the others (see startShell); clears any persisted start
            } else if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                b.start(); // marked started; it runs when the framework reaches its level
            }
        }
        ConfigurationNames names = ConfigurationNames.of(bundles.bundles());
        names.checkAll(conf); // before FileInstall reads them, so the warning comes first
        names.watch(conf);
        framework.start(); // to level 1: Config Admin
        RefreshCommand.register(framework.getBundleContext());
        List<String> stale = StaleConfigurations.prune(framework.getBundleContext(), conf);
        startLevel(framework, LEVEL_FILEINSTALL);
        startLevel(framework, LEVEL_RUNTIME);
        startLevel(framework, LEVEL_CORE);
        startLevel(framework, LEVEL_APPLICATIONS);

        long ms = (System.nanoTime() - t0) / 1_000_000;
        String banner = String.format("Aiolos %s on %s %s: %d bundles (%d installed, %d updated, %d uninstalled) started"
                        + " in %d ms%n  configuration: %s (watched; %d stale configuration(s) deleted)%n  log: %s%n"
                        + "  cache: %s (kept across restarts; --clean starts afresh)",
                version(), framework.getSymbolicName(), framework.getVersion(), bundles.bundles().size(),
                bundles.installed(), bundles.updated(), bundles.uninstalled(), ms, conf, stale.size(),
                logging, cache);
        switch (options.mode()) {
            case SHELL -> {
                System.out.println(banner);
                System.out.println("  Type 'help' for the commands, 'help <command>' for one (help aio:configure);"
                        + " Ctrl-C interrupts a command; 'stop 0' or Ctrl-D quits.");
                ShellTermination.install(framework);
                startShell(framework, shell);
                framework.waitForStop(0);
                return ShellTermination.terminated() ? ShellTermination.STATUS : 0;
            }
            case SERVER -> {
                System.out.println(banner);
                System.out.println("  No shell (--server): SIGTERM or SIGINT stops it.");
                framework.waitForStop(0);
                return 0;
            }
            default -> {
                System.err.println(banner);
                Settle.await(framework.getBundleContext());
                BundleConverter.register(framework.getBundleContext());
                String source = options.script() == null ? "stdin" : options.script().toString();
                int status = new CommandRunner(framework.getBundleContext(), System.out, System.err)
                        .run(script, source, () -> (framework.getState() & (Bundle.ACTIVE | Bundle.STARTING)) == 0);
                stopQuietly(framework);
                return status;
            }
        }
    }

    /**
     * Starts the JLine Gogo shell on this thread, with the JLine bundle's class loader as
     * the context class loader: the shell's thread inherits it, and JLine looks its
     * terminal providers (ffm, exec, ...) up through the context class loader; with the
     * launcher's it finds none and falls back to a dumb terminal (no line editing, and
     * Ctrl-C would not reach the running command). Started transiently: only a terminal
     * session starts it, never a restart of the framework.
     */
    private static void startShell(Framework framework, Bundle shell) throws BundleException {
        if (shell == null) {
            System.err.println("aiolos: no shell bundle (" + SHELL + ") in bundle/; running without a shell");
            return;
        }
        Bundle jline = null;
        for (Bundle b : framework.getBundleContext().getBundles()) {
            if (JLINE.equals(b.getSymbolicName())) {
                jline = b;
            }
        }
        Thread me = Thread.currentThread();
        ClassLoader before = me.getContextClassLoader();
        BundleWiring wiring = jline == null ? null : jline.adapt(BundleWiring.class);
        try {
            if (wiring != null) {
                me.setContextClassLoader(wiring.getClassLoader());
            }
            shell.start(Bundle.START_TRANSIENT);
        } finally {
            me.setContextClassLoader(before);
        }
    }

    private static Map<String, String> frameworkProperties(Path cache, Path conf) {
        Map<String, String> fw = new HashMap<>();
        fw.put(Constants.FRAMEWORK_STORAGE, cache.toString());
        fw.put(Constants.FRAMEWORK_BEGINNING_STARTLEVEL, String.valueOf(LEVEL_CONFIG_ADMIN));
        // FileInstall: conf/ only, .cfg files only, first scan while the bundle starts.
        // No write-back: FileInstall rewrites a file after each Config Admin update of its
        // configuration, its own included, which reformats the file and can overwrite an
        // edit made a moment later (seen in DistributionIT: a second edit within a second
        // was lost). The shell writes the files itself (ConfigStore), keeping comments.
        fw.put("felix.fileinstall.dir", conf.toString());
        fw.put("felix.fileinstall.filter", ".*\\.cfg");
        fw.put("felix.fileinstall.poll", POLL_MS);
        fw.put("felix.fileinstall.noInitialDelay", "true");
        fw.put("felix.fileinstall.enableConfigSave", "false");
        fw.put("felix.fileinstall.log.default", "jul");
        fw.put("felix.fileinstall.log.level", "3");
        return fw;
    }

    /** The start level of the bundle named {@code bsn} (see the class comment). */
    static int startLevel(String bsn) {
        if (CONFIG_ADMIN.equals(bsn)) {
            return LEVEL_CONFIG_ADMIN;
        }
        if (FILEINSTALL.equals(bsn)) {
            return LEVEL_FILEINSTALL;
        }
        if (CORE.equals(bsn)) {
            return LEVEL_CORE;
        }
        return APPLICATIONS.contains(bsn) ? LEVEL_APPLICATIONS : LEVEL_RUNTIME;
    }

    private static void startLevel(Framework framework, int level) throws InterruptedException {
        CompletableFuture<FrameworkEvent> reached = new CompletableFuture<>();
        framework.adapt(FrameworkStartLevel.class).setStartLevel(level, reached::complete);
        try {
            reached.get(2, TimeUnit.MINUTES);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("start level " + level + " not reached: " + e, e);
        }
    }

    /**
     * Whether stdin is a terminal: {@code -Daiolos.stdin.tty} when the start script says
     * ({@code [ -t 0 ]}), else the JDK's view of the console.
     */
    private static boolean stdinIsTerminal() {
        String said = System.getProperty("aiolos.stdin.tty");
        if (said != null) {
            return Boolean.parseBoolean(said);
        }
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    private static String version() {
        String v = Launcher.class.getPackage().getImplementationVersion();
        return v == null ? "(development build)" : v;
    }

    private static String versions() {
        String felix = "unknown";
        try {
            FrameworkFactory f = ServiceLoader.load(FrameworkFactory.class).findFirst().orElseThrow();
            Path jar = Path.of(f.getClass().getProtectionDomain().getCodeSource().getLocation().toURI());
            try (JarFile j = new JarFile(jar.toFile())) {
                felix = j.getManifest().getMainAttributes().getValue("Bundle-Name") + " "
                        + j.getManifest().getMainAttributes().getValue(Constants.BUNDLE_VERSION);
            }
        } catch (Exception e) {
            felix = "unknown (" + e + ")";
        }
        return "Aiolos " + version() + "\n" + felix + "\nJava " + Runtime.version() + " ("
                + System.getProperty("java.vm.name") + ", " + System.getProperty("java.home") + ")";
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static void stopQuietly(Framework framework) {
        try {
            if ((framework.getState() & (Bundle.ACTIVE | Bundle.STARTING)) != 0) {
                framework.stop();
            }
            framework.waitForStop(30_000);
        } catch (BundleException | InterruptedException e) {
            System.err.println("aiolos: stopping the framework: " + e);
        } finally {
            ShutdownLogManager.closeHandlersAtExit(); // only now: the bundles have said their last
        }
    }
}
