package org.aiolos.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * Makes the framework's installed bundles match the jars of {@code bundle/}, the rule that
 * lets the framework cache persist across restarts: a jar not installed yet is installed,
 * a jar newer than its installed bundle updates it, and a bundle whose jar left the folder
 * is uninstalled. Bundles installed from elsewhere (an operator's {@code install} in the
 * shell) are left alone. Runs after {@code Framework.init()}, before any bundle starts.
 */
final class BundleSync {
    /** What changed, for the start line. */
    record Result(List<Bundle> bundles, int installed, int updated, int uninstalled) {
    }

    private BundleSync() {
    }

    static Result sync(Framework framework, Path dir) throws IOException, BundleException, InterruptedException {
        BundleContext bc = framework.getBundleContext();
        List<Path> jars;
        try (Stream<Path> s = Files.list(dir)) {
            jars = s.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
        }
        if (jars.isEmpty()) {
            throw new IllegalStateException("no bundles in " + dir);
        }
        String prefix = dir.toUri().toString();
        List<Bundle> out = new ArrayList<>();
        int installed = 0;
        int updated = 0;
        int uninstalled = 0;
        for (Bundle b : bc.getBundles()) {
            String loc = b.getLocation();
            if (b.getBundleId() != 0 && loc.startsWith(prefix) && !jars.contains(Path.of(java.net.URI.create(loc)))) {
                b.uninstall();
                uninstalled++;
            }
        }
        for (Path jar : jars) {
            String location = jar.toUri().toString();
            Bundle b = bc.getBundle(location);
            if (b == null) {
                try {
                    b = bc.installBundle(location);
                } catch (BundleException e) {
                    if (e.getType() != BundleException.DUPLICATE_BUNDLE_ERROR) {
                        throw e;
                    }
                    // Two jars of one bundle (an old copy left beside a renamed one): the
                    // first in name order serves; saying so beats refusing to start.
                    System.err.println("aiolos: " + jar.getFileName() + " ignored: " + e.getMessage()
                            + "; remove the extra copy from " + dir);
                    continue;
                }
                installed++;
            } else if (Files.getLastModifiedTime(jar).toMillis() > b.getLastModified()) {
                try (InputStream in = Files.newInputStream(jar)) {
                    b.update(in);
                }
                updated++;
            }
            out.add(b);
        }
        if (updated + uninstalled > 0) {
            refresh(framework);
        }
        return new Result(out, installed, updated, uninstalled);
    }

    /** Drops the old revisions of updated and uninstalled bundles before anything uses them. */
    private static void refresh(Framework framework) throws InterruptedException {
        CompletableFuture<FrameworkEvent> done = new CompletableFuture<>();
        framework.adapt(FrameworkWiring.class).refreshBundles(null, done::complete);
        try {
            done.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("refreshing the updated bundles did not finish: " + e, e);
        }
    }
}
