package org.aiolos.core.osgi;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import org.aiolos.api.AioContext;
import org.aiolos.core.AiolosContext;
import org.osgi.framework.ServiceReference;
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
    private BackendCatalog catalog;

    @Reference
    BackendRegistry backends;
    @Reference
    RejectedConfigurations rejected;

    @Activate
    void activate() {
        catalog = new BackendCatalog(backends);
    }

    // ---------------------------------------------------------------- references

    @Reference(service = AioContext.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindContext(AioContext ctx, ServiceReference<AioContext> ref) {
        if (ctx instanceof AiolosContext ac) {
            contexts.put(ac.name(), new ContextEntry(ac, ref));
        }
    }

    /** Removes the entry only if it is still this context (a namesake may have replaced it). */
    void unbindContext(AioContext ctx) {
        contexts.computeIfPresent(ctx.name(), (name, entry) -> entry.context() == ctx ? null : entry);
    }

    // ---------------------------------------------------------------- commands

    /** {@code aio:contexts}: every context with its thread, backends and live counters. */
    public String contexts() {
        StringBuilder out = new StringBuilder(ContextListing.render(contexts.values()));
        rejected.all().forEach((name, why) -> out.append('\n').append(name)
                .append("  no IOThread: its configuration was ").append(why));
        return out.toString();
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
            return noSuchContext(context);
        }
        try {
            return BackendSwitch.fdMonitor(e.context(), fdmon);
        } catch (IllegalArgumentException bad) {
            return bad.getMessage();
        }
    }

    /**
     * {@code aio:use <context> <fdmon|aio-engine> <name>}: switches either backend live;
     * for the disk engine ({@code threads}, {@code native}, {@code io_uring} or
     * {@code auto}) requests in flight finish on the old engine, new ones use the new one.
     */
    public String use(String context, String kind, String name) throws InterruptedException {
        if (kind.equals("fdmon")) {
            return use(context, name);
        }
        if (!kind.equals("aio-engine")) {
            return "unknown backend kind '" + kind + "'; use fdmon or aio-engine";
        }
        ContextEntry e = contexts.get(context);
        if (e == null) {
            return noSuchContext(context);
        }
        try {
            return BackendSwitch.diskEngine(e.context(), name);
        } catch (IllegalArgumentException bad) {
            return bad.getMessage();
        }
    }

    private String noSuchContext(String context) {
        return "no context named '" + context + "'; contexts: " + String.join(", ", contexts.keySet());
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
        return new LoopBench(backends).run(fdmon.equals("auto") ? null : fdmon);
    }
}
