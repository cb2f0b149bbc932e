package org.aiolos.core.osgi;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.api.threadpool.ThreadPoolFactory;
import org.aiolos.core.BackendProviders;
import org.aiolos.core.FdMonitorProviders;

/**
 * Every backend service the shell can show: the fd monitors contexts choose from, and the
 * thread-pool and disk-I/O engine services registered in the framework. Contexts do not
 * use the latter two yet (no runtime in core consumes them), so the listing says so
 * rather than pretending.
 */
final class BackendCatalog {
    /** Shown for a counter whose runtime is not part of this build. */
    static final String NOT_BUILT = "n/a";

    private final FdMonitorProviders fdMonitors;
    private final Map<ThreadPoolFactory, Integer> pools = new ConcurrentHashMap<>();
    private final Map<DiskIoEngineFactory, Integer> engines = new ConcurrentHashMap<>();

    BackendCatalog(FdMonitorProviders fdMonitors) {
        this.fdMonitors = fdMonitors;
    }

    void addPool(ThreadPoolFactory f, int ranking) {
        pools.put(f, ranking);
    }

    void removePool(ThreadPoolFactory f) {
        pools.remove(f);
    }

    void addEngine(DiskIoEngineFactory f, int ranking) {
        engines.put(f, ranking);
    }

    void removeEngine(DiskIoEngineFactory f) {
        engines.remove(f);
    }

    FdMonitorProviders fdMonitors() {
        return fdMonitors;
    }

    String engineSummary(String configured) {
        String want = configured.isEmpty() ? "best available" : configured;
        return engines.isEmpty() ? "none (" + want + " requested; no disk-I/O engine service)"
                : "not wired (" + want + " requested; " + engines.size() + " engine service(s) registered)";
    }

    String poolSummary(int min, int max) {
        return (pools.isEmpty() ? "none" : "not wired") + " (min " + min + ", max " + max + ")";
    }

    /** {@code aio:backends}: each provider with its ranking, and why an unavailable one is. */
    String render() {
        StringBuilder out = new StringBuilder(String.format("%-12s %-10s %7s  %s%n", "KIND", "NAME", "RANKING", "STATE"));
        boolean pollService = false;
        for (BackendProviders.Provider<FdMonitorFactory> p : fdMonitors.list()) {
            pollService |= p.name().equals(FdMonitorFactory.POLL);
            line(out, "fdmon", p.name(), Integer.toString(p.ranking()), fdMonitors.unavailableReason(p.factory()));
        }
        if (!pollService) {
            line(out, "fdmon", "poll", "-", null);
            out.setLength(out.length() - 1);
            out.append(" (built into core; no poll bundle active)\n");
        }
        for (Map.Entry<ThreadPoolFactory, Integer> e : pools.entrySet()) {
            line(out, "thread-pool", e.getKey().name(), e.getValue().toString(), null);
        }
        if (pools.isEmpty()) {
            out.append(String.format("%-12s %s%n", "thread-pool", "none registered"));
        }
        for (Map.Entry<DiskIoEngineFactory, Integer> e : engines.entrySet()) {
            line(out, "aio-engine", e.getKey().name(), e.getValue().toString(), e.getKey().unavailableReason());
        }
        if (engines.isEmpty()) {
            out.append(String.format("%-12s %s%n", "aio-engine", "none registered"));
        }
        return out.toString().stripTrailing();
    }

    private static void line(StringBuilder out, String kind, String name, String ranking, String unavailable) {
        out.append(String.format("%-12s %-10s %7s  %s%n", kind, name, ranking,
                unavailable == null ? "available" : "unavailable: " + unavailable));
    }
}
