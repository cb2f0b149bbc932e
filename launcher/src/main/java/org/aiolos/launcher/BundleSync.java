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
                    installed++;
                } catch (BundleException e) {
                    if (e.getType() != BundleException.DUPLICATE_BUNDLE_ERROR) {
                        throw e;
                    }
                    Bundle twin = twin(bc, jar);
                    if (twin == null || !sameFile(twin.getLocation(), jar)) {
                        // Two jars of one bundle (an old copy left beside a renamed one), or the
                        // bundle installed from elsewhere: the one there serves; saying so beats
                        // refusing to start.
                        System.err.println("aiolos: " + jar.getFileName() + " ignored: " + e.getMessage()
                                + (twin == null || twin.getLocation().startsWith(prefix)
                                ? "; remove the extra copy from " + dir
                                : "; it is installed from " + twin.getLocation() + " (uninstall that one to let "
                                        + dir + " manage it)"));
                        continue;
                    }
                    // This very jar, installed from the shell under another spelling of its
                    // location (file:/x rather than file:///x): it is this folder's bundle.
                    b = twin;
                }
            }
            if (Files.getLastModifiedTime(jar).toMillis() > b.getLastModified()) {
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

    /** The installed bundle with {@code jar}'s symbolic name and version, or null. */
    private static Bundle twin(BundleContext bc, Path jar) throws IOException {
        java.util.jar.Manifest mf;
        try (java.util.jar.JarFile f = new java.util.jar.JarFile(jar.toFile())) {
            mf = f.getManifest();
        }
        String bsn = mf == null ? null : mf.getMainAttributes().getValue("Bundle-SymbolicName");
        if (bsn == null) {
            return null;
        }
        String name = bsn.split(";", 2)[0].trim();
        org.osgi.framework.Version version = org.osgi.framework.Version.parseVersion(
                mf.getMainAttributes().getValue("Bundle-Version"));
        for (Bundle b : bc.getBundles()) {
            if (name.equals(b.getSymbolicName()) && version.equals(b.getVersion())) {
                return b;
            }
        }
        return null;
    }

    /** Whether {@code location} is a file URL of {@code jar}, however it is spelled. */
    private static boolean sameFile(String location, Path jar) {
        try {
            return Files.isSameFile(Path.of(java.net.URI.create(location)), jar);
        } catch (IOException | RuntimeException notAFile) {
            return false;
        }
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
