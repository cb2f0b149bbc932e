package org.aiolos.core.osgi;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import org.aiolos.api.AioContext;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.api.threadpool.ThreadPoolFactory;
import org.aiolos.core.AiolosContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The Gogo commands of scope {@code aio}. Gogo finds them through the
 * {@code osgi.command.*} service properties and calls the public methods by name, so
 * there is no compile-time dependency on Gogo. Each returns its text (Gogo prints it).
 */
@Component(service = AioCommands.class, immediate = true, property = {"osgi.command.scope=aio",
        "osgi.command.function=contexts", "osgi.command.function=backends", "osgi.command.function=use",
        "osgi.command.function=top", "osgi.command.function=bench"})
public final class AioCommands {
    private final Map<String, ContextEntry> contexts = new ConcurrentSkipListMap<>();
    /** Binds that arrive before activation (DS binds dynamic references first). */
    private final List<Runnable> pending = new ArrayList<>();
    private BackendCatalog catalog;

    @Reference
    FdMonitorRegistry monitors;

    @Activate
    synchronized void activate() {
        catalog = new BackendCatalog(monitors.providers());
        pending.forEach(Runnable::run);
        pending.clear();
    }

    private synchronized void whenActive(Runnable r) {
        if (catalog == null) {
            pending.add(r);
        } else {
            r.run();
        }
    }

    // ---------------------------------------------------------------- references

    @Reference(service = AioContext.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindContext(AioContext ctx, Map<String, Object> props) {
        if (ctx instanceof AiolosContext ac) {
            contexts.put(ac.name(), new ContextEntry(ac, Map.copyOf(props)));
        }
    }

    void updatedContext(AioContext ctx, Map<String, Object> props) {
        bindContext(ctx, props);
    }

    /** Removes the entry only if it is still this context (a namesake may have replaced it). */
    void unbindContext(AioContext ctx) {
        contexts.computeIfPresent(ctx.name(), (name, entry) -> entry.context() == ctx ? null : entry);
    }

    @Reference(service = ThreadPoolFactory.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindPool(ThreadPoolFactory f, Map<String, Object> props) {
        whenActive(() -> catalog.addPool(f, ranking(props)));
    }

    void unbindPool(ThreadPoolFactory f) {
        whenActive(() -> catalog.removePool(f));
    }

    @Reference(service = DiskIoEngineFactory.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindEngine(DiskIoEngineFactory f, Map<String, Object> props) {
        whenActive(() -> catalog.addEngine(f, ranking(props)));
    }

    void unbindEngine(DiskIoEngineFactory f) {
        whenActive(() -> catalog.removeEngine(f));
    }

    private static int ranking(Map<String, Object> props) {
        return props.get("service.ranking") instanceof Integer i ? i : 0;
    }

    // ---------------------------------------------------------------- commands

    /** {@code aio:contexts}: every context with its thread, backends and live counters. */
    public String contexts() {
        return ContextListing.render(contexts.values(), catalog)
                + "\n(" + BackendCatalog.NOT_BUILT + ": the thread-pool and disk-I/O runtimes are not in this build)";
    }

    /** {@code aio:backends}: every backend with its ranking, and why an unavailable one is. */
    public String backends() {
        return catalog.render();
    }

    /**
     * {@code aio:use <context> <fdmon>}: switches the context's fd monitor live
     * ({@code poll}, {@code epoll}, {@code io_uring}, or {@code auto} for QEMU's policy).
     * Lasts until the context's configuration next changes its {@code fdmon}.
     */
    public String use(String context, String fdmon) throws InterruptedException {
        ContextEntry e = contexts.get(context);
        if (e == null) {
            return "no context named '" + context + "'; contexts: " + String.join(", ", contexts.keySet());
        }
        String want = fdmon.equals("auto") ? "" : fdmon;
        if (!IOThreadSettings.FD_MONITORS.contains(want)) {
            return "unknown fd monitor '" + fdmon + "'; use poll, epoll, io_uring or auto";
        }
        e.context().useFdMonitor(want.isEmpty() ? null : want);
        String now = MonitorWait.until(e.context(), want, 2_000);
        String note = e.context().fdMonitorNote();
        return context + ": fd monitor " + now + (note == null ? "" : " (" + note + ")");
    }

    /** {@code aio:top}: ten refreshes, one a second. */
    public void top() throws InterruptedException {
        top(10, 1000);
    }

    /** {@code aio:top <count> <intervalMs>}: per-second rates, refreshed in place. */
    public void top(int count, long intervalMs) throws InterruptedException {
        new TopView(System.out).run(contexts.values(), count, intervalMs);
    }

    /** {@code aio:bench}: a short benchmark on a fresh IOThread with the best fd monitor. */
    public String bench() throws Exception {
        return bench("auto");
    }

    /** {@code aio:bench <fdmon>}: the same on the named monitor. */
    public String bench(String fdmon) throws Exception {
        return new LoopBench(monitors.providers()).run(fdmon.equals("auto") ? null : fdmon);
    }
}
