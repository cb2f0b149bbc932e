package org.aiolos.core.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.BackendFactory;
import org.aiolos.api.BackendStatus;
import org.aiolos.core.BackendProviders;
import org.aiolos.core.BackendProviders.Lease;
import org.aiolos.core.BackendProviders.Provider;
import org.aiolos.core.jfr.BackendSwapEvent;

/**
 * One kind of backend of one context (its fd monitor, its thread pool, its disk-I/O
 * engine, or an NBD export's own engine): the life cycle every kind shares.
 *
 * <ul>
 *   <li><b>Asked</b> from any thread: a provider appears, disappears or re-ranks
 *       ({@link BackendProviders} listener), or a name is configured ({@link #configure}).
 *       Either only raises a flag and asks the host for its next safe point.</li>
 *   <li><b>Re-chosen</b> only at a safe point of the home thread's loop (the start of an
 *       outermost poll, {@link #atSafePoint}): never inside a callback or a completion of
 *       the backend being retired. The choice is the configured provider when it is
 *       available, else the best available one, with a {@link #note} saying why.</li>
 *   <li><b>Retired</b>: new work goes to the new choice; the old backend keeps its work in
 *       flight and delivers those completions.</li>
 *   <li><b>Closed</b> at a later safe point once it has nothing in flight. Its lease on the
 *       provider is released even when its close throws, so a bundle waiting to stop is
 *       never held by a failed close.</li>
 * </ul>
 *
 * <p>A provider whose backend failed to open, or failed while in use, is skipped by this
 * slot until that provider is registered again.
 *
 * <p><b>Threads.</b> {@link #current} is read without a lock by submissions; it and
 * {@link #retiring} change under this object's monitor. Safe points run in the home
 * thread only.
 *
 * @param <F> the factory type
 * @param <B> the backend type
 */
public abstract class BackendSlot<F extends BackendFactory<?, ?>, B> {
    protected static final System.Logger LOG = System.getLogger("org.aiolos.core");

    /** A backend opened from a provider, and what it costs its provider until closed. */
    public static final class Opened<F, B> {
        private final F factory;
        private final String name;
        private final B backend;
        private final Lease lease;
        long retiredAtNs;
        String retiredWhy;

        Opened(F factory, String name, B backend, Lease lease) {
            this.factory = factory;
            this.name = name;
            this.backend = backend;
            this.lease = lease;
        }

        public F factory() {
            return factory;
        }

        /** The provider's name. */
        public String name() {
            return name;
        }

        public B backend() {
            return backend;
        }
    }

    /** What a slot should run on, and why not on what it was asked for. */
    public record Choice<F>(Provider<F> provider, String note) {
    }

    protected final SlotHost host;
    /** {@code fdmon}, {@code thread-pool}, {@code aio-engine}. */
    protected final String kind;
    protected final BackendProviders<F> providers;
    private final String owner;
    private final Runnable listener = this::providersChanged;
    /** Providers whose backend failed here, with why; cleared when the provider goes. */
    private final Map<F, String> failed = new ConcurrentHashMap<>();
    private volatile String configured;
    private volatile String note;
    /** Set by any thread: re-choose at the next safe point. */
    private volatile boolean reselect;
    /** The backend new work goes to; null when none is open. Written under this. */
    protected volatile Opened<F, B> current;
    /** Retired backends still finishing their work. Guarded by this. */
    private final List<Opened<F, B>> retiring = new ArrayList<>();

    protected BackendSlot(SlotHost host, String kind, String owner, BackendProviders<F> providers, String configured) {
        this.host = host;
        this.kind = kind;
        this.owner = owner;
        this.providers = providers;
        this.configured = blankToNull(configured);
        providers.addListener(listener);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    // =====================================================================================
    // asked, from any thread

    /** Names the provider to use, or null for the best available; applied at the next safe point. */
    public final void configure(String name) {
        configured = blankToNull(name);
        requestReselect();
    }

    public final String configured() {
        return configured;
    }

    /** Why this slot is not on the configured (or preferred) backend; null if it is. */
    public final String note() {
        return note;
    }

    protected final void requestReselect() {
        reselect = true;
        host.attention();
    }

    protected final boolean reselectPending() {
        return reselect;
    }

    private void providersChanged() {
        failed.keySet().removeIf(f -> !providers.contains(f));
        requestReselect();
    }

    // =====================================================================================
    // the safe point, home thread

    /**
     * Applies a pending re-choice and closes retired backends that have drained.
     *
     * @return whether this slot needs the next safe point too (a backend still drains)
     */
    public final boolean atSafePoint() {
        if (reselect) {
            reselect = false;
            reconsider();
        }
        safePointWork();
        closeDrained();
        synchronized (this) {
            return !retiring.isEmpty() || reselect;
        }
    }

    private void reconsider() {
        Choice<F> c = choose();
        setNote(c.note());
        Opened<F, B> cur = current;
        boolean retired = cur != null && (!stillRegistered(cur.factory)
                || (c.provider() != null && c.provider().factory() != cur.factory));
        if (retired) {
            retire(cur, c.provider() == null ? "its provider went and no other is available"
                    : !stillRegistered(cur.factory) ? "its provider went; now " + c.provider().name()
                    : "now " + c.provider().name());
        }
        chosen(c, retired);
    }

    /** Work a kind has for the safe point besides the re-choice; nothing by default. */
    protected void safePointWork() {
    }

    /**
     * The re-choice at a safe point is made.
     *
     * @param retiredCurrent whether the backend that was current has just been retired
     */
    protected abstract void chosen(Choice<F> choice, boolean retiredCurrent);

    /** Whether a backend opened from {@code factory} may keep serving. */
    protected boolean stillRegistered(F factory) {
        return providers.contains(factory) && !failed.containsKey(factory);
    }

    /** The configured provider if available, else the best available one; with a note why. */
    protected Choice<F> choose() {
        String want = configured;
        if (want != null) {
            Choice<F> configured = configured(want);
            if (configured.provider() != null) {
                return configured;
            }
            Provider<F> any = best(null);
            return new Choice<>(any, "configured " + kind + " '" + want + "' is not available (" + configured.note()
                    + "); " + (any == null ? "no other is available either" : "using " + any.name() + " until it is"));
        }
        Provider<F> any = best(null);
        return new Choice<>(any, any == null ? "no " + kind + " provider is available" : null);
    }

    /**
     * The provider named {@code want} with no note, or no provider and the reason there is
     * none. The reason is read after the miss, and the provider looked for once more after
     * that: one registered in between is taken, not reported "not available (available)".
     */
    protected final Choice<F> configured(String want) {
        Provider<F> p = best(want);
        if (p != null) {
            return new Choice<>(p, null);
        }
        String why = whyNot(want);
        p = best(want);
        return p != null ? new Choice<>(p, null) : new Choice<>(null, why);
    }

    /** The highest-ranked usable provider (named {@code name} unless null) this slot may use. */
    protected final Provider<F> best(String name) {
        for (Provider<F> p : providers.list()) {
            if ((name == null || name.equals(p.name())) && !failed.containsKey(p.factory())
                    && providers.unavailableReason(p.factory()) == null) {
                return p;
            }
        }
        return null;
    }

    /** Why no provider named {@code name} can serve this slot: its failure here, or the providers' reason. */
    protected final String whyNot(String name) {
        for (Map.Entry<F, String> e : failed.entrySet()) {
            if (providers.nameOf(e.getKey()).equals(name)) {
                return e.getValue();
            }
        }
        return providers.whyNot(name);
    }

    protected final void setNote(String n) {
        String before = note;
        note = n;
        if (n != null && !n.equals(before)) {
            LOG.log(System.Logger.Level.INFO, "{0}: {1}", owner, n);
        }
    }

    // =====================================================================================
    // open, retire, close

    /**
     * Opens a backend from {@code p} and makes it current. The lease is taken before the
     * provider is checked once more, so a removal that started meanwhile either sees the
     * lease (and waits for it) or is seen here.
     *
     * @return the opened backend, or null if the provider was withdrawn meanwhile
     * @throws RuntimeException what the factory threw (the provider is then skipped here)
     */
    protected final Opened<F, B> open(Provider<F> p) {
        F f = p.factory();
        Lease lease = isBuiltin(f) ? null : providers.lease(f, owner + " (" + kind + " " + p.name() + ")",
                host::homeThread);
        if (lease != null && !providers.contains(f)) {
            lease.release();
            return null;
        }
        B b;
        try {
            b = openBackend(f);
        } catch (RuntimeException e) {
            if (lease != null) {
                lease.release();
            }
            markFailed(f, e.getMessage() == null ? e.toString() : e.getMessage());
            throw e;
        }
        Opened<F, B> o = new Opened<>(f, p.name(), b, lease);
        synchronized (this) {
            current = o;
        }
        LOG.log(System.Logger.Level.DEBUG, "{0}: {1} {2} opened", owner, kind, p.name());
        return o;
    }

    /** This slot stops using {@code factory} (its backend failed); the next choice skips it. */
    protected final void markFailed(F factory, String why) {
        if (failed.putIfAbsent(factory, why) == null) {
            LOG.log(System.Logger.Level.WARNING, "{0}: {1} {2} failed ({3}); not using it again until it is "
                    + "registered anew", owner, kind, providers.nameOf(factory), why);
        }
        requestReselect();
    }

    /** A built-in backend needs no lease (the fd monitors' poll fallback). */
    protected boolean isBuiltin(F factory) {
        return false;
    }

    /** Stops giving {@code o} new work; it closes at a safe point once drained. */
    protected final void retire(Opened<F, B> o, String why) {
        synchronized (this) {
            if (current == o) {
                current = null;
            }
            o.retiredAtNs = System.nanoTime();
            o.retiredWhy = why;
            retiring.add(o);
        }
        int n = inFlight(o.backend);
        LOG.log(System.Logger.Level.INFO, "{0}: {1} {2} retired ({3}){4}", owner, kind, o.name, why,
                n == 0 ? "" : "; it closes once its " + n + (n == 1 ? " request in flight has" : " requests in flight have")
                        + " completed");
        host.attention();
    }

    private void closeDrained() {
        List<Opened<F, B>> drained = null;
        synchronized (this) {
            for (int i = retiring.size() - 1; i >= 0; i--) {
                Opened<F, B> o = retiring.get(i);
                if (inFlight(o.backend) == 0) {
                    retiring.remove(i);
                    if (drained == null) {
                        drained = new ArrayList<>();
                    }
                    drained.add(o);
                }
            }
        }
        if (drained != null) {
            for (Opened<F, B> o : drained) {
                closeQuietly(o);
            }
        }
    }

    /** Closes {@code o}; a failure is reported, and its lease is released either way. */
    protected final void closeQuietly(Opened<F, B> o) {
        try {
            closeBackend(o.backend);
        } catch (Throwable t) {
            host.report(o.backend, t);
        } finally {
            if (o.lease != null) {
                o.lease.release();
            }
        }
        if (o.retiredAtNs != 0) {
            long drainNs = System.nanoTime() - o.retiredAtNs;
            LOG.log(System.Logger.Level.INFO, "{0}: {1} {2} closed after draining for {3} ms", owner, kind, o.name,
                    String.valueOf(TimeUnit.NANOSECONDS.toMillis(drainNs))); // not "1,234"
            String context = host.context().name();
            BackendSwapEvent.emit(context, kind, o.name, servingName(), owner.equals("AioContext '" + context + "'")
                    ? o.retiredWhy : o.retiredWhy + " (" + owner + ")", drainNs);
        }
    }

    /**
     * Closes every backend, current and retiring (each waits for its own work, whose
     * completions run first). The slot keeps following its providers: later work opens a
     * backend again, unless {@link #dispose} follows.
     */
    public void closeBackends() {
        List<Opened<F, B>> all;
        synchronized (this) {
            all = new ArrayList<>(retiring);
            if (current != null) {
                all.add(current);
            }
            current = null;
            retiring.clear();
        }
        for (Opened<F, B> o : all) {
            closeQuietly(o);
        }
    }

    /** Stops following the providers; the context has closed (or the slot's owner has). */
    public void dispose() {
        providers.removeListener(listener);
    }

    // =====================================================================================
    // what the kinds differ in

    /** Opens a backend. */
    protected abstract B openBackend(F factory);

    /** Work accepted by {@code backend} whose completion has not run. */
    protected abstract int inFlight(B backend);

    /** Closes {@code backend}, letting its work complete first. */
    protected abstract void closeBackend(B backend);

    /** Requests held until a provider is available; 0 for kinds that never hold any. */
    protected int waiting() {
        return 0;
    }

    // =====================================================================================
    // status

    /** The name of the backend taking new work, or null. */
    public final String servingName() {
        Opened<F, B> o = current;
        return o == null ? null : o.name;
    }

    public final synchronized int draining() {
        return retiring.size();
    }

    /** Runs {@code action} on the current backend and every retiring one. */
    protected final synchronized void forEachOpen(java.util.function.Consumer<B> action) {
        if (current != null) {
            action.accept(current.backend);
        }
        for (Opened<F, B> o : retiring) {
            action.accept(o.backend);
        }
    }

    /** Work still in flight on retired backends. */
    protected final synchronized int inFlightRetiring() {
        int n = 0;
        for (Opened<F, B> o : retiring) {
            n += inFlight(o.backend);
        }
        return n;
    }

    public BackendStatus status() {
        return new BackendStatus(kind, configured, servingName(), note, draining(), waiting(), user());
    }

    /** Who opened this slot besides the context itself (an export's own engine), or null. */
    protected String user() {
        return null;
    }

    protected final String owner() {
        return owner;
    }

    @Override
    public String toString() {
        return kind + " of " + owner;
    }
}
