package org.aiolos.nbd.osgi;

import java.io.IOException;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.AioContext;
import org.aiolos.api.coroutine.CoroutineRuntime;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.config.ConfigSchema;
import org.aiolos.core.config.MetatypeSchemas;
import org.aiolos.nbd.NbdServer;
import org.aiolos.nbd.jfr.ExportConfigurationRejectedEvent;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * Every export configuration of the container and what serves it. Configurations come from
 * {@link NbdExportComponent}s; IOThread contexts and disk-I/O engines come and go as
 * services. After each change the exports are reconciled: one whose IOThread (or named
 * engine) is there is served, one whose IOThread went is stopped (its requests in flight
 * finish first: {@link NbdServer#removeExport}) and waits for it to come back.
 *
 * <p>Exports sharing an address and port share one {@link Listener}, so they must name the
 * same IOThread and the same further IOThreads ({@code iothreads}). The further ones serve
 * the listener's connections while they exist: one that appears is added to the server
 * ({@link NbdServer#addContext}), one that goes is withdrawn from it first
 * ({@link NbdServer#removeContext}: its connections finish their requests and close, and
 * their clients reconnect to the others) while its loop still runs. Export names are unique in the container, so {@code nbd:close <name>}
 * means one export.
 *
 * <p>A configuration that is invalid, clashes with another, or cannot be served (the port
 * is taken) is rejected with a message naming the field, logged at WARNING and kept for
 * {@code nbd:list}; if it was an update, the previous settings keep serving. One refused for
 * what another export held is tried again when an export goes or changes; one whose listener
 * could not be opened, every {@value #LISTEN_RETRY_S} s. Who held a name or a writable image
 * is remembered across restarts ({@link ExportHolders}), so a configuration refused for it
 * does not take it when it happens to come first at the next start.
 */
@Component(service = NbdExports.class, immediate = true)
public final class NbdExports {
    private static final System.Logger LOG = System.getLogger("org.aiolos.nbd");

    private final Map<String, ExportEntry> entries = new TreeMap<>();
    private final Map<String, AiolosContext> contexts = new HashMap<>();
    /** Contexts of a core revision this bundle is not wired to, by name (until a refresh). */
    private final Map<String, AioContext> otherRevision = new HashMap<>();
    /** Set while {@link #retryRefused} tries a refused configuration again: refusals stay quiet. */
    private boolean retrying;
    private final Map<String, Listener> listeners = new HashMap<>();
    private final Path home = Path.of(System.getProperty("aiolos.home", "")).toAbsolutePath();
    /** Seconds between tries of what only something outside mends ({@link ExportEntry#retriedOnTimer}). */
    static final int LISTEN_RETRY_S = 2;
    /** Runs those tries; its one thread exists only while some listener waits (and 10 s after). */
    private ScheduledThreadPoolExecutor retries;
    /** The next try, while one is due; guarded by this. */
    private ScheduledFuture<?> nextListenRetry;
    private volatile ConfigSchema schema;
    private volatile BundleContext bc;
    /** Who held each name and writable image, across restarts; set on activation. */
    private ExportHolders holders = new ExportHolders(null);

    // ---------------------------------------------------------------- references

    /**
     * Every connection and request is a coroutine: the runtime is a service, and binding it
     * means the {@link org.aiolos.api.coroutine.Coroutines} facade the server uses has it.
     */
    @Reference
    CoroutineRuntime coroutines;

    @Reference(service = AioContext.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    synchronized void bindContext(AioContext ctx, Map<String, Object> props) {
        if (!(props.get(AioContext.NAME_PROPERTY) instanceof String name)) {
            return;
        }
        if (ctx instanceof AiolosContext ac) {
            contexts.put(name, ac);
            reconcile();
            retryListenersLater();
        } else if (ofAnotherCoreRevision(ctx)) {
            // Core was updated or reinstalled and this bundle still uses the old revision of
            // its packages (OSGi keeps it until a refresh): the new core's contexts are of
            // classes this bundle cannot use. Say so, rather than wait as if none ran.
            otherRevision.put(name, ctx);
            if (retries != null) {
                warnOtherRevision(name); // bound before activation: activate() says it
            }
        }
    }

    /**
     * Said from the retry thread, not from within the bind callback: the service event may
     * be delivered on a shell command's thread (an {@code update}), and logging a warning
     * there left SCR's tracking count short and broke the following refresh.
     */
    private void warnOtherRevision(String name) {
        retries.execute(() -> LOG.log(System.Logger.Level.WARNING, "IOThread ''{0}'' runs on another revision of the"
                + " org.aiolos.core bundle than the one the NBD bundle is wired to (core was updated or reinstalled);"
                + " its exports wait until `refresh` rewires the NBD bundle", name));
    }

    /** Whether {@code ctx} is an {@link AiolosContext} of another class loader: another revision of core. */
    private static boolean ofAnotherCoreRevision(AioContext ctx) {
        for (Class<?> c = ctx.getClass(); c != null; c = c.getSuperclass()) {
            for (Class<?> i : c.getInterfaces()) {
                if (i.getName().equals(AiolosContext.class.getName())) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Removes the context only if it is still this one (a namesake may have replaced it). */
    synchronized void unbindContext(AioContext ctx, Map<String, Object> props) {
        if (!(props.get(AioContext.NAME_PROPERTY) instanceof String name)) {
            return;
        }
        otherRevision.remove(name, ctx);
        if (contexts.remove(name, ctx)) {
            reconcile();
            retryListenersLater();
        }
    }

    @Activate
    synchronized void activate(BundleContext context) {
        bc = context;
        schema = schema(context);
        java.io.File data = context.getDataFile(HOLDERS_FILE);
        holders = new ExportHolders(data == null ? null : data.toPath());
        retries = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "aiolos-nbd-listen-retry");
            t.setDaemon(true);
            return t;
        });
        retries.setKeepAliveTime(10, TimeUnit.SECONDS);
        retries.allowCoreThreadTimeOut(true);
        retries.setRemoveOnCancelPolicy(true);
        retryListenersLater(); // configurations bound before activation that could not listen
        otherRevision.keySet().forEach(this::warnOtherRevision);
    }

    /** In the bundle's data area: kept across restarts, gone with the framework cache ({@code --clean}). */
    static final String HOLDERS_FILE = "export-holders.properties";

    /** The export configuration's Metatype ({@link ExportConfig}) as the nbd bundle declares it. */
    static ConfigSchema schema(BundleContext context) {
        return MetatypeSchemas.of(context.getBundle(), NbdExportComponent.FACTORY_PID);
    }

    /**
     * Checks a configuration as {@link #configure} would, without storing or serving anything:
     * its fields, then what other exports hold (a name, a writable image, a listener on other
     * terms), then whether the TCP address and port it would open a listener on can be bound
     * now, so that the shell refuses those before storing, and nothing is logged as a
     * rejected stored configuration (as {@code nbd_server_start} in {@code blockdev-nbd.c}
     * fails the QMP command when the socket cannot listen, before any export exists). Only
     * opening the listener is left to {@link #configure}: a port taken between the two is
     * still refused there, and rolled back.
     *
     * @param pid the configuration it updates, null for a new one
     * @throws org.aiolos.core.config.InvalidConfigurationException with every error
     */
    synchronized ExportSettings check(String pid, Map<String, ?> props, String defaultName) {
        ExportSettings s = ExportSettings.parse(schema, props, defaultName, home);
        ExportEntry own = pid == null ? null : entries.get(pid);
        String clash;
        try {
            checkClashes(pid, s);
            clash = sharedListenerConflict(own != null ? own : new ExportEntry(""), s);
        } catch (IllegalArgumentException ex) {
            clash = ex.getMessage();
        }
        if (clash == null) {
            clash = unbindable(s);
        }
        if (clash != null) {
            throw new org.aiolos.core.config.InvalidConfigurationException(null, List.of(clash));
        }
        return s;
    }

    /**
     * Why {@link #configure} could not open the TCP listener {@code s} needs right away, found
     * by binding its address and port without listening; null when it could, when a listener
     * is open there already (this export's or one it would share), or when it would not open
     * one yet (its IOThread is not there: it waits, and so does the listener).
     */
    private String unbindable(ExportSettings s) {
        if (s.socket() != null || s.port() == 0 || listeners.containsKey(s.endpoint())
                || !contexts.containsKey(s.iothread())) {
            return null;
        }
        try {
            NbdServer.checkListenable(s.address(), s.port());
            return null;
        } catch (IOException | RuntimeException ex) {
            return listenFailure(s, ex);
        }
    }

    @Deactivate
    synchronized void deactivate() {
        if (retries != null) {
            retries.shutdownNow(); // a try waiting for this lock finds no entry, and its thread ends
            retries = null;
            nextListenRetry = null;
        }
        for (ExportEntry e : entries.values()) {
            stop(e, "the NBD bundle stops");
        }
        entries.clear();
    }

    /**
     * Schedules the next try of the listeners that could not be opened and the images that
     * did not exist, if any is waited for and none is due. A port another program held, an
     * address that comes up, a socket directory, credentials or an image that appear: nothing
     * in the configuration was wrong, and no event tells when that changes, so it is tried
     * again, quietly, until served or removed.
     */
    private void retryListenersLater() {
        if (retries == null || nextListenRetry != null) {
            return;
        }
        for (ExportEntry e : entries.values()) {
            if (e.retriedOnTimer()) {
                nextListenRetry = retries.schedule(this::retryListeners, LISTEN_RETRY_S, TimeUnit.SECONDS);
                return;
            }
        }
    }

    private synchronized void retryListeners() {
        nextListenRetry = null;
        if (retries == null) {
            return; // deactivated meanwhile
        }
        retryRefused();
        reconcile();
        retryListenersLater();
    }

    // ---------------------------------------------------------------- configurations

    /**
     * Creates or updates the export of configuration {@code pid}.
     *
     * @return null when applied (served, or waiting for its IOThread), else the rejection
     */
    synchronized String configure(String pid, Map<String, ?> props) {
        ExportEntry e = entries.computeIfAbsent(pid, ExportEntry::new);
        e.updates++;
        String result = apply(e, props);
        if (result == null) {
            retryRefused(); // what it held before (a port, a listener, a name) may be free now
        }
        retryListenersLater();
        return result;
    }

    /**
     * Configurations refused for what another export held (its name, a listener it shares
     * on other terms, a port) are tried again, quietly, when that may have changed: an export
     * that goes or changes can free it. One that now applies says so once.
     */
    private void retryRefused() {
        for (ExportEntry e : List.copyOf(entries.values())) {
            Map<String, ?> props = e.refusedProps;
            if (props == null || entries.get(e.pid) != e) {
                continue;
            }
            String before = e.settings == null ? e.rejected : e.lastRejection;
            retrying = true;
            try {
                if (apply(e, props) == null) {
                    LOG.log(System.Logger.Level.INFO, "NBD export ''{0}'' applied now; it was {1}",
                            e.settings.name(), before);
                }
            } finally {
                retrying = false;
            }
        }
    }

    /** Applies {@code props} to {@code e}; null when applied, else the rejection. */
    private String apply(ExportEntry e, Map<String, ?> props) {
        String pid = e.pid;
        e.refusedProps = null;
        e.listenBlocked = false;
        e.fileAwaited = false;
        Object asked = props.get("name");
        e.requestedName = asked == null ? defaultName(pid) : asked.toString();
        ExportSettings next;
        try {
            next = ExportSettings.parse(schema, props, defaultName(pid), home);
        } catch (IllegalArgumentException ex) {
            if (ExportSettings.onlyMissingFile(ex)) {
                // Nothing else is wrong: the image may still be being created or copied, and
                // no configuration event comes when it appears. Tried again on the timer.
                e.refusedProps = props;
                e.fileAwaited = true;
            } else if (e.settings == null) {
                // It claims nothing until mended, so another may have its name. (A refused
                // update keeps what the previous settings hold: they serve on.)
                holders.forget(pid);
            }
            return reject(e, ex.getMessage()); // else a fault of its own: only an edit mends it
        }
        e.refusedProps = props; // until applied: from here on, what refuses it is another export's
        try {
            checkClashes(pid, next);
        } catch (IllegalArgumentException ex) {
            return reject(e, ex.getMessage());
        }
        if (next.equals(e.settings)) {
            e.refusedProps = null;
            e.lastRejection = null;
            holders.record(pid, next);
            if (e.listener == null) {
                reconcile(); // perhaps the port is free now
            }
            return null; // nothing changed: no reason to drop the clients
        }
        ExportSettings previous = e.settings;
        // What could refuse the new settings is tried before anything is stopped, so that a
        // refusal leaves the export, and its clients, as they were: a listener shared with
        // other exports must accept them, and a listener they need is opened first (a port
        // that is taken, credentials that do not load).
        String conflict = sharedListenerConflict(e, next);
        if (conflict != null) {
            return reject(e, conflict);
        }
        Listener opened;
        try {
            opened = listenerAhead(next);
        } catch (IOException | RuntimeException ex) {
            e.listenBlocked = true;
            return reject(e, listenFailure(next, ex));
        }
        // Said as it happens: with an IOThread that is not there the export waits, not serves.
        boolean waits = !contexts.containsKey(next.iothread());
        String waitsFor = "IOThread '" + next.iothread() + "' (" + runningIothreads() + ")";
        boolean wasServing = e.listener != null;
        stop(e, waits ? "its configuration changed; with the new settings it waits for " + waitsFor
                : "its configuration changed; it is served again with the new settings");
        e.settings = next;
        e.rejected = null;
        e.lastRejection = null;
        String failure = serve(e);
        if (failure != null) {
            boolean blocked = e.listenBlocked;
            if (opened != null && opened.exports.isEmpty()) {
                closeListener(opened);
            }
            e.settings = previous;
            if (previous != null) {
                // The previous settings served before: they keep serving (unless their port
                // was taken meanwhile, which the listing then says).
                String again = serve(e);
                if (again != null) {
                    e.waiting = ExportEntry.NOT_SERVED + again;
                }
            }
            e.listenBlocked |= blocked;
            return reject(e, failure);
        }
        e.refusedProps = null;
        holders.record(pid, next);
        if (waits && !wasServing) {
            LOG.log(System.Logger.Level.INFO, "NBD export ''{0}'' waits for {1}; it is served when that IOThread"
                    + " appears", next.name(), waitsFor);
        }
        reconcile(); // the previous settings may have left a listener another export can use
        return null;
    }

    /** The configuration was deleted ({@code deleted}), or the bundle stops: the export goes. */
    synchronized void remove(String pid, boolean deleted) {
        ExportEntry e = entries.remove(pid);
        if (e != null) {
            stop(e, deleted ? "its configuration was deleted" : "the NBD bundle stops");
            if (deleted) {
                holders.forget(pid);
                LOG.log(System.Logger.Level.INFO, "NBD export configuration {0} deleted", pid);
                retryRefused();
                retryListenersLater();
            }
        }
    }

    /**
     * Closes export {@code name} of configuration {@code pid} for good (the MBean's
     * operation): deletes the configuration and waits for the export to stop. Not under
     * the lock: the deletion comes back through {@link #remove}.
     */
    String close(String pid, String name) throws InterruptedException {
        return ExportRemoval.close(bc, this, pid, name);
    }

    synchronized ExportEntry.Snapshot entry(String pid) {
        ExportEntry e = entries.get(pid);
        return e == null ? null : e.snapshot(runningIothreads());
    }

    synchronized List<ExportEntry.Snapshot> snapshots() {
        List<ExportEntry.Snapshot> out = new ArrayList<>();
        String running = runningIothreads();
        for (ExportEntry e : entries.values()) {
            out.add(e.snapshot(running));
        }
        return out;
    }

    /**
     * What an export waiting for its IOThread is told runs instead, read when asked: a name
     * that is almost right ({@code iothread-io2} for {@code io2}) shows beside the right one.
     */
    private String runningIothreads() {
        String stale = otherRevision.isEmpty() ? null : "on another revision of org.aiolos.core (`refresh` rewires"
                + " the NBD bundle to it): " + String.join(", ", new java.util.TreeSet<>(otherRevision.keySet()));
        if (contexts.isEmpty()) {
            return stale != null ? stale : "no IOThread runs";
        }
        String running = "running: " + String.join(", ", new java.util.TreeSet<>(contexts.keySet()));
        return stale == null ? running : running + "; " + stale;
    }

    private String reject(ExportEntry e, String why) {
        String reason = "rejected: " + why;
        if (retrying) {
            // Tried again quietly: said when it was refused, and the listing shows the reason.
            if (e.settings == null) {
                e.rejected = reason;
            } else {
                e.lastRejection = reason;
            }
            return reason;
        }
        ExportConfigurationRejectedEvent.emit(e.pid, e.requestedName, e.settings != null, why);
        String retried = e.retriedOnTimer() ? "; tried again every " + LISTEN_RETRY_S + " s while the configuration stays (a shell command's"
                + " refused configuration is not kept)"
                : null;
        if (e.settings == null) {
            e.rejected = reason;
            LOG.log(System.Logger.Level.WARNING, "NBD export configuration {0} {1}{2}", e.pid, reason,
                    retried != null ? retried : e.refusedProps != null
                            ? "; tried again whenever another export is applied or deleted" : "; no export until it is fixed");
        } else {
            e.lastRejection = reason;
            LOG.log(System.Logger.Level.WARNING, "NBD export ''{0}'': update {1}; the previous settings stay{2}",
                    e.settings.name(), reason, retried != null ? retried : "");
        }
        return reason;
    }

    private void checkClashes(String pid, ExportSettings next) {
        // Before the served ones: a holder that has not come back yet after a restart keeps
        // what it held, so a configuration refused for it then cannot take it now.
        String reserved = holders.reservedFor(pid, next, p -> entries.get(p) != null && entries.get(p).settings != null,
                this::configured);
        if (reserved != null) {
            throw new IllegalArgumentException(reserved);
        }
        for (ExportEntry o : entries.values()) {
            ExportSettings s = o.settings;
            if (o.pid.equals(pid) || s == null) { // pid: null for a configuration not stored yet
                continue;
            }
            if (s.name().equals(next.name())) {
                throw new IllegalArgumentException("name: export '" + next.name() + "' already exists (configuration "
                        + o.pid + ", " + s.endpoint() + ")");
            }
            if (s.endpoint().equals(next.endpoint()) && !s.iothread().equals(next.iothread())) {
                // Configured there, whether or not that IOThread runs now: it serves there when it does.
                throw new IllegalArgumentException("iothread: " + next.endpoint() + " belongs to IOThread '"
                        + s.iothread() + "' (export '" + s.name() + "'); exports sharing an address and port share"
                        + " its IOThread");
            }
            if (s.endpoint().equals(next.endpoint()) && !s.iothreads().equals(next.iothreads())) {
                throw new IllegalArgumentException("iothreads: " + next.endpoint() + " is also served by IOThreads '"
                        + String.join(",", s.iothreads()) + "' (export '" + s.name() + "'); exports sharing an"
                        + " address and port name the same ones");
            }
            if (!s.readOnly() && !next.readOnly() && sameFile(s.file(), next.file())) {
                // Two writers, each with its own cache of what it wrote, corrupt an image
                // (qemu's image locking refuses a second writer too); read-only views may sit beside one.
                throw new IllegalArgumentException("file: " + next.file() + " is already exported writable as '"
                        + s.name() + "' (configuration " + o.pid + "); a second export of the image must be"
                        + " read-only");
            }
        }
    }

    /** Whether Config Admin still has configuration {@code pid}; true when it cannot say (its claim stays). */
    private boolean configured(String pid) {
        BundleContext b = bc;
        var ref = b == null ? null : b.getServiceReference(org.osgi.service.cm.ConfigurationAdmin.class);
        var cm = ref == null ? null : b.getService(ref);
        if (cm == null) {
            return true;
        }
        try {
            String escaped = pid.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").replace("*", "\\*");
            var found = cm.listConfigurations("(service.pid=" + escaped + ")");
            return found != null && found.length > 0;
        } catch (IOException | org.osgi.framework.InvalidSyntaxException ex) {
            return true;
        } finally {
            b.ungetService(ref);
        }
    }

    /** The same file under two paths (a link, a relative path) counts as one. */
    private static boolean sameFile(java.nio.file.Path a, java.nio.file.Path b) {
        try {
            return a.equals(b) || java.nio.file.Files.isSameFile(a, b);
        } catch (IOException | SecurityException e) {
            return false; // one is not there: opening it says so
        }
    }

    // ---------------------------------------------------------------- serving

    /** Serves what can be served, stops what lost its IOThread, and follows the further IOThreads. */
    private void reconcile() {
        for (Listener l : listeners.values()) {
            syncServing(l);
        }
        for (ExportEntry e : entries.values()) {
            if (e.settings == null) {
                continue;
            }
            if (e.listener != null && !stillBacked(e)) {
                stop(e, "IOThread '" + e.settings.iothread() + "' went; served again when it is back");
            }
            if (e.listener == null) {
                String before = e.waiting;
                String failure = serve(e);
                if (failure != null) {
                    e.waiting = ExportEntry.NOT_SERVED + failure;
                    if (!e.waiting.equals(before)) {
                        LOG.log(System.Logger.Level.WARNING, "NBD export ''{0}'' {1}", e.settings.name(), e.waiting);
                    }
                }
            }
        }
    }

    /**
     * Makes the listener's further serving contexts those of its {@code iothreads} that exist:
     * withdraws first (waiting for their connections to close, while their loops still run),
     * then adds.
     */
    private void syncServing(Listener l) {
        for (var it = l.serving.entrySet().iterator(); it.hasNext();) {
            var s = it.next();
            if (contexts.get(s.getKey()) != s.getValue()) {
                it.remove();
                try {
                    int closed = l.server.removeContext(s.getValue());
                    LOG.log(System.Logger.Level.INFO, "NBD listener {0}: IOThread ''{1}'' no longer serves ({2}"
                            + " connections closed)", l.endpoint, s.getKey(), String.valueOf(Math.max(closed, 0)));
                } catch (RuntimeException ex) {
                    LOG.log(System.Logger.Level.WARNING, "NBD listener {0}: withdrawing IOThread ''{1}'': {2}",
                            l.endpoint, s.getKey(), ex.toString());
                }
            }
        }
        for (String name : l.iothreads) {
            AiolosContext c = contexts.get(name);
            if (c != null && !l.serving.containsKey(name)) {
                try {
                    l.server.addContext(c);
                    l.serving.put(name, c);
                } catch (RuntimeException ex) {
                    LOG.log(System.Logger.Level.WARNING, "NBD listener {0}: adding IOThread ''{1}'': {2}",
                            l.endpoint, name, ex.toString());
                }
            }
        }
        // keep the configured order
        if (l.serving.size() > 1) {
            Map<String, AiolosContext> ordered = new java.util.LinkedHashMap<>();
            for (String name : l.iothreads) {
                AiolosContext c = l.serving.get(name);
                if (c != null) {
                    ordered.put(name, c);
                }
            }
            l.serving.clear();
            l.serving.putAll(ordered);
        }
        l.servingChanged();
    }

    private boolean stillBacked(ExportEntry e) {
        ExportSettings s = e.settings;
        return contexts.get(s.iothread()) == e.listener.context;
    }

    /**
     * Opens the listener {@code s} needs when its IOThread is there and nothing listens at its
     * endpoint yet, so that {@link #serve} finds it.
     *
     * @return the listener opened, or null when none had to be
     */
    private Listener listenerAhead(ExportSettings s) throws IOException {
        AiolosContext ctx = contexts.get(s.iothread());
        if (ctx == null || listeners.containsKey(s.endpoint())) {
            return null;
        }
        Listener l = openListener(s, ctx);
        listeners.put(s.endpoint(), l);
        syncServing(l);
        return l;
    }

    private static Listener openListener(ExportSettings s, AiolosContext ctx) throws IOException {
        NbdServer server = s.socket() != null
                ? NbdServer.startUnix(ctx, s.socket(), s.socketMode(), s.listenerTls())
                : NbdServer.start(ctx, s.address(), s.port(), s.listenerTls());
        server.setHandshakeTimeout(java.time.Duration.ofSeconds(s.handshakeLimitSeconds()));
        server.setMaxConnections(s.maxConnections());
        return new Listener(s.endpoint(), s.iothread(), s.iothreads(), ctx, server, s.handshakeLimitSeconds(),
                s.socketMode(), s.maxConnections());
    }

    /**
     * Serves the entry's settings if their IOThread is there; else notes what it waits for.
     * Engines are the IOThread's business: a named one that is not available is replaced by
     * the best available one, with a note, until it is ({@code AiolosContext.openDiskIo}),
     * and requests wait while none is.
     *
     * @return null when served or waiting, else why it cannot be served, naming the field
     */
    private String serve(ExportEntry e) {
        ExportSettings s = e.settings;
        e.listenBlocked = false;
        AiolosContext ctx = contexts.get(s.iothread());
        if (ctx == null) {
            e.waiting = ExportEntry.WAITING_FOR_IOTHREAD + "'" + s.iothread() + "'";
            return null;
        }
        Listener l = listeners.get(s.endpoint());
        String conflict = l == null ? null : conflict(s, l, ctx);
        if (conflict != null) {
            return conflict;
        }
        boolean fresh = l == null;
        if (fresh) {
            try {
                l = openListener(s, ctx);
            } catch (IOException | RuntimeException ex) {
                e.listenBlocked = true;
                return listenFailure(s, ex);
            }
            listeners.put(s.endpoint(), l);
            syncServing(l);
        }
        try {
            l.server.addExport(s.toSpec());
        } catch (IOException | RuntimeException ex) {
            if (fresh) {
                closeListener(l);
            }
            return "file: cannot export " + s.file() + ": " + ex.getMessage();
        }
        l.exports.add(s.name());
        e.listener = l;
        e.waiting = null;
        e.mbean = NbdExportStats.register(e.pid, s, l, this);
        announce(s, l);
        return null;
    }

    /**
     * Why {@code s} cannot join listener {@code l} (which its exports share: one IOThread, one
     * TLS set-up, one handshake limit, one socket mode), naming the field; null when it can.
     * {@code ctx} is the IOThread {@code s} names, null when it is not there yet.
     */
    private static String conflict(ExportSettings s, Listener l, AiolosContext ctx) {
        if (ctx != null && l.context != ctx) {
            return "iothread: " + s.endpoint() + " is served by IOThread '" + l.iothread + "'";
        }
        if (!l.server.tls().equals(s.listenerTls())) {
            return "tls: " + s.endpoint() + " is served with tls=" + l.server.tls().mode()
                    + " and other TLS settings; exports sharing a listener must agree on tls, tls-creds and"
                    + " tls-verify-peer (tls-allowed-clients may differ)";
        }
        if (l.handshakeLimitSeconds != s.handshakeLimitSeconds()) {
            return "handshake-limit: " + s.endpoint() + " is served with handshake-limit="
                    + l.handshakeLimitSeconds + "; exports sharing a listener must agree on it";
        }
        if (l.maxConnections != s.maxConnections()) {
            return "max-connections: " + s.endpoint() + " is served with max-connections=" + l.maxConnections
                    + "; exports sharing a listener must agree on it";
        }
        if (s.socket() != null && l.socketMode != s.socketMode()) {
            return "socket-mode: " + s.endpoint() + " is served with socket-mode=0" + Integer.toOctalString(l.socketMode)
                    + "; exports sharing a socket must agree on it";
        }
        return null;
    }

    /**
     * Why an update to {@code next} would not be served on a listener that other exports keep
     * using, checked before the export stops (its clients stay when it is refused); null when
     * nothing stands in the way there. A listener this export has to itself closes with it.
     */
    private String sharedListenerConflict(ExportEntry e, ExportSettings next) {
        Listener l = listeners.get(next.endpoint());
        if (l == null) {
            return null;
        }
        boolean others = l.exports.size() > (e.listener == l ? 1 : 0);
        return others ? conflict(next, l, contexts.get(next.iothread())) : null;
    }

    /**
     * Names the field the failure is about: the address when it is not one of this host's
     * (the port's range is checked before, so an IllegalArgumentException is the address).
     */
    private static String listenFailure(ExportSettings s, Exception ex) {
        if (String.valueOf(ex.getMessage()).startsWith("tls-creds ")) {
            return "tls-creds: " + ex.getMessage().substring("tls-creds ".length());
        }
        // The server's IOException repeats "cannot listen on ..."; the root cause has the errno.
        Throwable root = ex;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        String m = String.valueOf(root.getMessage());
        if (s.socket() != null) {
            return "socket: cannot listen on " + s.endpoint() + ": " + m;
        }
        boolean address = ex instanceof UnknownHostException || ex instanceof IllegalArgumentException
                || m.contains("EADDRNOTAVAIL")
                || m.contains("assign requested address") || m.contains("not an address");
        return (address ? "address" : "port") + ": cannot listen on " + s.endpoint() + ": " + m;
    }

    /** Withdraws the export (its requests in flight finish) and closes an emptied listener. */
    private void stop(ExportEntry e, String why) {
        Listener l = e.listener;
        if (l == null) {
            return;
        }
        e.listener = null;
        NbdExportStats.unregister(e.mbean);
        e.mbean = null;
        String name = e.settings.name();
        int clients = clientsOf(l, name);
        try {
            l.server.removeExport(name);
        } catch (RuntimeException ex) {
            LOG.log(System.Logger.Level.WARNING, "NBD export ''{0}'': removing it: {1}", name, ex.toString());
        }
        l.exports.remove(name);
        if (l.exports.isEmpty()) {
            closeListener(l);
        }
        LOG.log(System.Logger.Level.INFO, "NBD export ''{0}'' stopped: {1}{2}", name, why,
                clients == 0 ? "" : clients == 1 ? " (1 client disconnected)" : " (" + clients + " clients disconnected)");
    }

    /** The connections to export {@code name}; 0 if the server cannot say (it is closing). */
    private static int clientsOf(Listener l, String name) {
        try {
            for (org.aiolos.nbd.ExportStats st : l.server.exports()) {
                if (st.name().equals(name)) {
                    return st.connections();
                }
            }
        } catch (RuntimeException closing) {
            // counted as none
        }
        return 0;
    }

    private void closeListener(Listener l) {
        listeners.remove(l.endpoint, l);
        try {
            l.server.close();
        } catch (RuntimeException ex) {
            LOG.log(System.Logger.Level.WARNING, "NBD listener {0}: closing it: {1}", l.endpoint, ex.toString());
        }
    }

    private static void announce(ExportSettings s, Listener l) {
        String msg = "nbd: export '" + s.name() + "' of " + s.file() + " at " + l.uri(s.name())
                + " on IOThread" + (l.serving.isEmpty() ? " '" + s.iothread() + "'" : "s '" + l.servingNames() + "'")
                + " (try: nbdinfo " + l.uri(s.name()) + ")";
        LOG.log(System.Logger.Level.INFO, msg);
        if (Boolean.getBoolean("aiolos.nbd.announce")) {
            System.out.println(msg);
        }
    }

    /**
     * A configuration without a name exports under its PID's last part ({@code ...export~scratch}),
     * as it is: one that is no valid export name ({@code export-My Disk.cfg}) is refused as an
     * explicit {@code name=My Disk} is, rather than served under a name the shell cannot find it by.
     */
    static String defaultName(String pid) {
        String s = Objects.requireNonNullElse(pid, "export");
        int cut = s.lastIndexOf('~') >= 0 ? s.lastIndexOf('~') : s.lastIndexOf('.');
        return s.substring(cut + 1);
    }
}
