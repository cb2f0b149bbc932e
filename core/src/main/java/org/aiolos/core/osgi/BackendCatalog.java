package org.aiolos.core.osgi;

import org.aiolos.api.BackendFactory;
import org.aiolos.core.BackendProviders;

/** {@code aio:backends}: every backend provider with its ranking, and why an unavailable one is. */
final class BackendCatalog {
    private final BackendRegistry backends;

    BackendCatalog(BackendRegistry backends) {
        this.backends = backends;
    }

    String render() {
        StringBuilder out = new StringBuilder(String.format("%-12s %-10s %7s  %s%n", "KIND", "NAME", "RANKING", "STATE"));
        boolean pollService = section(out, "fdmon", backends.fdMonitors(), "poll");
        if (!pollService) {
            out.append(String.format("%-12s %-10s %7s  %s%n", "fdmon", "poll", "-",
                    "available (built into core; no poll bundle active)"));
        }
        if (!section(out, "thread-pool", backends.threadPools(), null)) {
            out.append(String.format("%-12s %s%n", "thread-pool",
                    "none registered: pool submissions wait for one, up to each IOThread's backend-wait-ms"));
        }
        if (!section(out, "aio-engine", backends.diskEngines(), null)) {
            out.append(String.format("%-12s %s%n", "aio-engine",
                    "none registered: disk requests wait for one, up to each IOThread's backend-wait-ms"));
        }
        return out.toString().stripTrailing();
    }

    /** @return whether a provider named {@code watch} is listed (any provider when null) */
    private static <F extends BackendFactory<?, ?>> boolean section(StringBuilder out, String kind,
            BackendProviders<F> providers, String watch) {
        boolean seen = false;
        for (BackendProviders.Provider<F> p : providers.list()) {
            seen |= watch == null || p.name().equals(watch);
            String why = providers.unavailableReason(p.factory());
            out.append(String.format("%-12s %-10s %7d  %s%n", kind, p.name(), p.ranking(),
                    why == null ? "available" : "unavailable: " + why));
        }
        return seen;
    }
}
