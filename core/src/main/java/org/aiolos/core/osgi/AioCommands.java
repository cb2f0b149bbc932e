package org.aiolos.core.osgi;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import org.aiolos.api.AioContext;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.config.RefusedException;
import org.aiolos.core.config.UsageException;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The Gogo commands of scope {@code aio}. Gogo finds them through the
 * {@code osgi.command.*} service properties and calls the public methods by name; its
 * {@code @Descriptor} annotations (an optional import: without Gogo nothing reads them) are
 * what {@code help aio:use} prints, and a call with arguments no overload takes gets the
 * command's usage. Each returns its text (Gogo prints it); a refusal (no such context, an
 * unknown backend) is thrown as a {@link RefusedException}, so that it shows as a failure
 * and stops a script.
 */
@Component(service = AioCommands.class, immediate = true, property = {"osgi.command.scope=aio",
        "osgi.command.function=contexts", "osgi.command.function=backends", "osgi.command.function=use",
        "osgi.command.function=top", "osgi.command.function=bench"})
public final class AioCommands {
    static final String USE_USAGE = """
            usage: aio:use <context> <poll|epoll|io_uring|auto>
                   aio:use <context> fdmon <poll|epoll|io_uring|auto>
                   aio:use <context> aio-engine <threads|native|io_uring|auto>
                   aio:use <context> thread-pool <provider|auto>""";
    private static final String TOP_USAGE = "usage: aio:top [count intervalMs]   (both > 0; default 10 frames,"
            + " 1000 ms apart)";
    /** The backend kinds of {@code aio:use <context> <kind> <name>}. */
    private static final Set<String> KINDS = Set.of("fdmon", "aio-engine", "thread-pool");
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
    @Descriptor("lists every context: its thread, fd monitor, disk engine, thread pool and live counters;"
            + " IOThread configurations that were rejected, with the reason")
    public String contexts() {
        StringBuilder out = new StringBuilder(ContextListing.render(contexts.values()));
        rejected.all().forEach((name, why) -> out.append('\n').append(name)
                .append("  no IOThread: its configuration was ").append(why));
        return out.toString();
    }

    /*
     * The Object... overloads take every wrong call: without one, Gogo answered an argument
     * too many with its own "Cannot coerce list(Token) to any of [()]".
     */
    @Descriptor("a wrong call of aio:contexts: prints how to call it")
    public String contexts(@Descriptor("anything else") Object... wrong) {
        throw new UsageException("aio:contexts: wrong arguments", "usage: aio:contexts   (no arguments)");
    }

    /** {@code aio:backends}: every backend with its ranking, and why an unavailable one is. */
    @Descriptor("lists every backend (fd monitors, thread pools, disk engines) with its ranking; an"
            + " unavailable one says why")
    public String backends() {
        return catalog.render();
    }

    @Descriptor("a wrong call of aio:backends: prints how to call it")
    public String backends(@Descriptor("anything else") Object... wrong) {
        throw new UsageException("aio:backends: wrong arguments", "usage: aio:backends   (no arguments)");
    }

    /**
     * {@code aio:use <context> <fdmon>}: switches the context's fd monitor live
     * ({@code poll}, {@code epoll}, {@code io_uring}, or {@code auto} for QEMU's policy).
     * Lasts until the context's configuration next changes its {@code fdmon}.
     */
    @Descriptor("switches a context's fd monitor live, at its loop's next safe point")
    public String use(@Descriptor("the context (aio:contexts lists them)") String context,
                      @Descriptor("poll, epoll, io_uring, or auto (QEMU's policy)") String fdmon)
            throws InterruptedException {
        if (KINDS.contains(fdmon)) {
            // aio:use io1 aio-engine: the value is missing; not a monitor named 'aio-engine'.
            throw new UsageException("aio:use: " + fdmon + " needs a value", USE_USAGE);
        }
        ContextEntry e = contexts.get(context);
        if (e == null) {
            throw noSuchContext(context);
        }
        try {
            return BackendSwitch.fdMonitor(e.context(), fdmon) + untilReconfigured(e, "fdmon");
        } catch (IllegalArgumentException bad) {
            throw new RefusedException(bad.getMessage());
        }
    }

    /**
     * For an IOThread of a configuration: that the switch lasts until the configuration
     * changes (which puts its {@code key} back in force) or the IOThread restarts.
     */
    private static String untilReconfigured(ContextEntry e, String key) {
        if (!"configuration".equals(e.prop(IOThreadRunner.SOURCE, ""))) {
            return "";
        }
        String configured = e.prop(key, "");
        String name = e.context().name();
        return "\n(" + name + "'s configuration says " + key + "=" + (configured.isEmpty() ? "(best available)"
                : configured) + "; this switch lasts until that configuration changes or " + name + " restarts:"
                + " aio:configure " + name + " " + key + "=... keeps a choice)";
    }

    /**
     * {@code aio:use <context> <fdmon|aio-engine|thread-pool> <name>}: switches a backend
     * live. For the disk engine ({@code threads}, {@code native}, {@code io_uring}) and the
     * thread pool (a provider's name), work in flight finishes on the old one while new work
     * goes to the new one; {@code auto} returns to the best available. An engine that is
     * not available is kept as the preference: the context runs on the best available one,
     * says so in {@code aio:contexts}, and moves to the named one when it appears. A thread
     * pool must be a registered provider's (a preference for one not registered yet goes in
     * the configuration, {@code aio:configure <context> thread-pool=...}).
     */
    @Descriptor("switches a context's fd monitor, disk-I/O engine or thread pool live; work in flight on the"
            + " old one finishes there")
    public String use(@Descriptor("the context (aio:contexts lists them)") String context,
                      @Descriptor("fdmon, aio-engine or thread-pool") String kind,
                      @Descriptor("fdmon: poll, epoll, io_uring or auto; aio-engine: threads, native, io_uring"
                              + " or auto; thread-pool: a provider's name (aio:backends) or auto") String name)
            throws InterruptedException {
        if (kind.equals("fdmon")) {
            return use(context, name);
        }
        ContextEntry e = contexts.get(context);
        if (e == null) {
            throw noSuchContext(context);
        }
        try {
            return switch (kind) {
                case "aio-engine" -> BackendSwitch.diskEngine(e.context(), name) + untilReconfigured(e, "aio-engine");
                case "thread-pool" -> BackendSwitch.threadPool(e.context(), registeredPool(name));
                default -> throw new RefusedException("unknown backend kind '" + kind
                        + "'; use fdmon, aio-engine or thread-pool");
            };
        } catch (IllegalArgumentException bad) {
            throw new RefusedException(bad.getMessage());
        }
    }

    @Descriptor("a wrong call of aio:use: prints how to call it")
    public String use(@Descriptor("anything else") Object... wrong) {
        throw new UsageException("aio:use: wrong arguments", USE_USAGE);
    }

    /**
     * {@code name} when it is {@code auto} or a registered thread-pool provider's. Any name
     * was taken (and shown as "configured: bogus") while a bad disk engine was refused;
     * unlike the engines the providers are not a fixed list, so the registered ones are it.
     */
    private String registeredPool(String name) {
        List<String> names = backends.threadPools().list().stream().map(p -> p.name()).toList();
        if (!BackendSwitch.AUTO.equals(name) && !names.contains(name)) {
            throw new RefusedException("unknown thread-pool provider '" + name + "'; use a registered provider's name ("
                    + (names.isEmpty() ? "none is registered now" : String.join(", ", names)) + ") or auto");
        }
        return name;
    }

    private RefusedException noSuchContext(String context) {
        return new RefusedException("no context named '" + context + "'; contexts: "
                + String.join(", ", contexts.keySet()));
    }

    /** {@code aio:top}: ten refreshes, one a second. */
    @Descriptor("per-second rates of every context, ten times, one a second (Ctrl-C stops it)")
    public String top(CommandSession session) {
        return top(session, 10, 1000);
    }

    /**
     * {@code aio:top <count> <intervalMs>}: per-second rates, redrawn in place on a
     * terminal (ANSI home and clear), one frame after another otherwise. An interrupt
     * (Ctrl-C in the shell) ends it quietly.
     */
    @Descriptor("per-second rates of every context, count times, every intervalMs ms (Ctrl-C stops it)")
    public String top(CommandSession session, @Descriptor("how many frames, > 0") int count,
                      @Descriptor("ms between frames, > 0") long intervalMs) {
        if (count <= 0 || intervalMs <= 0) {
            // A wrong call, not TopView's raw IllegalArgumentException.
            throw new UsageException("aio:top: count and intervalMs must be > 0, got " + count + " and " + intervalMs,
                    TOP_USAGE);
        }
        try {
            new TopView(System.out, Terminals.isTerminal(session)).run(contexts.values(), count, intervalMs);
            return null;
        } catch (InterruptedException e) {
            return "aio:top: stopped";
        }
    }

    @Descriptor("a wrong call of aio:top: prints how to call it")
    public String top(@Descriptor("anything else") Object... wrong) {
        throw new UsageException("aio:top: wrong arguments", TOP_USAGE);
    }

    /** {@code aio:bench}: a short benchmark on a fresh IOThread with the best fd monitor. */
    @Descriptor("about a second of measurements on a fresh IOThread with the best fd monitor: bottom-half"
            + " throughput, cross-thread wake and eventfd round trips")
    public String bench() throws Exception {
        return bench("auto");
    }

    /** {@code aio:bench <fdmon>}: the same on the named monitor. */
    @Descriptor("the same measurements on the named fd monitor")
    public String bench(@Descriptor("poll, epoll, io_uring or auto") String fdmon) throws Exception {
        String want;
        try {
            want = BackendSwitch.fdMonitorName(fdmon); // an unknown name ran on the best one, "requested epol"
        } catch (IllegalArgumentException bad) {
            throw new RefusedException(bad.getMessage());
        }
        return new LoopBench(backends).run(want.isEmpty() ? null : want);
    }
}
