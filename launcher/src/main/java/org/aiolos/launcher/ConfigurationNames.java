package org.aiolos.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.osgi.framework.Bundle;

/**
 * Warns about a {@code .cfg} file in {@code conf/} whose name no Aiolos bundle reads: a
 * typo in its PID ({@code org.aiolos.iothreads-io6.cfg}, {@code org.aiolos.iothread.cfg}
 * without its name) made FileInstall create a configuration nobody used, with nothing
 * but FileInstall's INFO "Creating configuration" to show for it. The PIDs understood
 * come from the bundles' Metatype ({@code <Designate pid=...>} or {@code factoryPid=...}),
 * the one place they are written; files are named as FileInstall reads them:
 * {@code <pid>.cfg}, or {@code <factoryPid>-<name>.cfg} (split at the first '-').
 * Checked at start and, while Aiolos runs, for every file that appears.
 */
final class ConfigurationNames {
    private static final System.Logger LOG = System.getLogger("org.aiolos.launcher");
    /** Only this namespace is checked: other bundles' files are theirs to judge. */
    static final String PREFIX = "org.aiolos.";
    private static final Pattern DESIGNATE = Pattern.compile("<Designate\\s[^>]*?\\b(pid|factoryPid)=\"([^\"]+)\"");

    private final Set<String> pids;
    private final Set<String> factoryPids;

    ConfigurationNames(Set<String> pids, Set<String> factoryPids) {
        this.pids = Set.copyOf(pids);
        this.factoryPids = Set.copyOf(factoryPids);
    }

    /** The PIDs designated by the Metatype of {@code bundles} (read from their entries: none needs to run). */
    static ConfigurationNames of(List<Bundle> bundles) throws IOException {
        Set<String> pids = new TreeSet<>();
        Set<String> factories = new TreeSet<>();
        for (Bundle b : bundles) {
            Enumeration<String> paths = b.getEntryPaths("OSGI-INF/metatype/");
            for (String p : paths == null ? List.<String>of() : Collections.list(paths)) {
                if (p.endsWith(".xml")) {
                    try (InputStream in = b.getEntry(p).openStream()) {
                        designates(new String(in.readAllBytes(), StandardCharsets.UTF_8), pids, factories);
                    }
                }
            }
        }
        return new ConfigurationNames(pids, factories);
    }

    /** Adds the {@code Designate}s of one Metatype document to {@code pids} or {@code factoryPids}. */
    static void designates(String metatype, Set<String> pids, Set<String> factoryPids) {
        Matcher m = DESIGNATE.matcher(metatype);
        while (m.find()) {
            (m.group(1).equals("pid") ? pids : factoryPids).add(m.group(2));
        }
    }

    /** @return the warning about the file named {@code fileName}, or null when its name is understood */
    String warning(Path folder, String fileName) {
        if (!fileName.startsWith(PREFIX) || !fileName.endsWith(".cfg")) {
            return null;
        }
        String base = fileName.substring(0, fileName.length() - ".cfg".length());
        int dash = base.indexOf('-');
        String pid = dash > 0 ? base.substring(0, dash) : base;
        if (dash > 0 ? factoryPids.contains(pid) : pids.contains(pid)) {
            return null;
        }
        return folder.resolve(fileName) + ": no Aiolos bundle reads configuration '" + pid + "', so this file does"
                + " nothing; the names understood are " + understood();
    }

    private String understood() {
        List<String> names = new ArrayList<>();
        // Only Aiolos's: FileInstall designates a PID of its own, which is no help here.
        factoryPids.stream().filter(f -> f.startsWith(PREFIX)).sorted().forEach(f -> names.add(f + "-NAME.cfg"));
        pids.stream().filter(p -> p.startsWith(PREFIX)).sorted().forEach(p -> names.add(p + ".cfg"));
        return String.join(", ", names);
    }

    /** Logs a warning for every file of {@code folder} whose name is not understood. */
    void checkAll(Path folder) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(folder, "*.cfg")) {
            for (Path f : files) {
                warn(folder, f.getFileName().toString());
            }
        }
    }

    /**
     * Watches {@code folder} for new files and warns about each one not understood, on a
     * daemon thread until the JVM ends. Best effort: without a watch service nothing is said.
     */
    void watch(Path folder) {
        WatchService watcher;
        try {
            watcher = folder.getFileSystem().newWatchService();
            folder.register(watcher, StandardWatchEventKinds.ENTRY_CREATE);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.log(System.Logger.Level.INFO, "cannot watch " + folder + " for misnamed .cfg files: " + e);
            return;
        }
        Thread.ofPlatform().daemon().name("aiolos-conf-names").start(() -> {
            try {
                for (WatchKey key; (key = watcher.take()) != null; key.reset()) {
                    for (WatchEvent<?> e : key.pollEvents()) {
                        if (e.context() instanceof Path p) {
                            warn(folder, p.getFileName().toString());
                        }
                    }
                }
            } catch (InterruptedException | ClosedWatchServiceException ended) {
                // the JVM is ending
            }
        });
    }

    private void warn(Path folder, String fileName) {
        String w = warning(folder, fileName);
        if (w != null) {
            LOG.log(System.Logger.Level.WARNING, w);
        }
    }
}
