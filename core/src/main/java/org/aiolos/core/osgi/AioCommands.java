package org.aiolos.core.osgi;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import org.aiolos.api.AioContext;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.BackendStatus;
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

    /**
     * {@code aio:use <context> <fdmon|aio-engine|thread-pool> <name>}: switches a backend
     * live. For the disk engine ({@code threads}, {@code native}, {@code io_uring}) and the
     * thread pool (a provider's name), work in flight finishes on the old one while new work
     * goes to the new one; {@code auto} returns to the best available. A name that is not
     * available is kept as the preference: the context runs on the best available one, says
     * so in {@code aio:contexts}, and moves to the named one when it appears.
     */
    public String use(String context, String kind, String name) throws InterruptedException {
        if (kind.equals("fdmon")) {
            return use(context, name);
        }
        ContextEntry e = contexts.get(context);
        if (e == null) {
            return "no context named '" + context + "'; contexts: " + String.join(", ", contexts.keySet());
        }
        String want = name.equals("auto") ? null : name;
        switch (kind) {
            case "aio-engine" -> {
                if (want != null && !IOThreadSettings.AIO_ENGINES.contains(want)) {
                    return "unknown disk-I/O engine '" + name + "'; use threads, native, io_uring or auto";
                }
                e.context().useDiskEngine(want);
            }
            case "thread-pool" -> e.context().useThreadPool(want);
            default -> {
                return "unknown backend kind '" + kind + "'; use fdmon, aio-engine or thread-pool";
            }
        }
        BackendStatus now = MonitorWait.applied(e.context(), kind, want, 2_000);
        return context + ": " + kind + " " + now.describe() + (now.note() == null ? "" : "; " + now.note());
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
