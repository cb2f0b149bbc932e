package org.aiolos.launcher;

import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * {@code refresh} for the shell, in place of Felix gogo.command 1.1.2's, whose bare
 * {@code refresh} throws a NullPointerException ({@code Arrays.asList(null)} in
 * {@code Basic.refresh}). Registered as {@code felix:refresh} with a higher ranking, so Gogo
 * calls this one: no arguments refreshes every bundle that needs it, bundle ids refresh
 * those, and both wait for the refresh to finish.
 */
public final class RefreshCommand {
    private final BundleContext bc;

    private RefreshCommand(BundleContext bc) {
        this.bc = bc;
    }

    static ServiceRegistration<?> register(BundleContext bc) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("osgi.command.scope", "felix");
        props.put("osgi.command.function", new String[] {"refresh"});
        props.put("service.ranking", 1);
        return bc.registerService(RefreshCommand.class, new RefreshCommand(bc), props);
    }

    /** Refreshes every bundle that was updated or uninstalled (and what depends on it). */
    public String refresh() throws InterruptedException {
        return refresh(new String[0]);
    }

    /** Refreshes the bundles with these ids (and what depends on them). */
    public String refresh(String... ids) throws InterruptedException {
        List<Bundle> bundles = new ArrayList<>();
        for (String id : ids) {
            Bundle b;
            try {
                b = bc.getBundle(Long.parseLong(id));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("refresh: '" + id + "' is not a bundle id (lb lists them)", e);
            }
            if (b == null) {
                throw new IllegalArgumentException("refresh: no bundle " + id + " (lb lists them)");
            }
            bundles.add(b);
        }
        CompletableFuture<FrameworkEvent> done = new CompletableFuture<>();
        bc.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(bundles.isEmpty() ? null : bundles,
                done::complete);
        try {
            FrameworkEvent e = done.get(60, TimeUnit.SECONDS);
            if (e.getType() == FrameworkEvent.ERROR) {
                return "refresh: " + e.getThrowable();
            }
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return "refresh: not finished: " + e;
        }
        return bundles.isEmpty() ? "refreshed" : "refreshed " + String.join(" ", ids);
    }
}
