package org.aiolos.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.aiolos.api.BackendFactory;

/**
 * The factories of one kind of backend (fd monitors, thread pools, disk-I/O engines)
 * that contexts may choose from, each with a name and a ranking. In OSGi the core
 * component feeds it from the service registry (name and {@code service.ranking} service
 * properties); on the module or class path it is filled from {@link ServiceLoader}.
 * Contexts listen to it and switch backends at a safe point of their loop when it changes.
 *
 * <p><b>Leases.</b> A context that opens a backend from a factory holds a {@link Lease}
 * on it until that backend is closed. {@link #remove} does not return while leases on the
 * removed factory are held (up to {@link #drainTimeoutNs()}): contexts move to another
 * backend at their next safe point, let the old one finish its requests and close it, and
 * only then is the factory's bundle free to go. So a bundle that is stopped, updated or
 * refreshed never has its classes needed after its services are gone (OSGi's rule that a
 * service is not used after its unregistration has completed).
 *
 * @param <F> the factory type
 */
public class BackendProviders<F extends BackendFactory<?, ?>> {
    private static final System.Logger LOG = System.getLogger("org.aiolos.core");
    /** How long {@link #remove} waits for backends to drain by default: 30 s. */
    public static final long DEFAULT_DRAIN_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(30);

    /** A registered factory with its name and {@code service.ranking}. */
    public record Provider<F>(F factory, String name, int ranking) {
        public Provider {
            Objects.requireNonNull(factory, "factory");
            Objects.requireNonNull(name, "name");
        }
    }

    /**
     * A backend opened from a factory and not closed yet. Released exactly once (further
     * calls do nothing), by the holder that closes the backend, even when the close fails.
     */
    public final class Lease {
        private final F factory;
        private final String holder;
        private final Supplier<Thread> home;
        private boolean released;

        private Lease(F factory, String holder, Supplier<Thread> home) {
            this.factory = factory;
            this.holder = holder;
            this.home = home;
        }

        public F factory() {
            return factory;
        }

        public void release() {
            synchronized (leases) {
                if (released) {
                    return;
                }
                released = true;
                List<Lease> held = leases.get(factory);
                if (held != null) {
                    held.remove(this);
                    if (held.isEmpty()) {
                        leases.remove(factory);
                    }
                }
                leases.notifyAll();
            }
        }

        @Override
        public String toString() {
            return holder;
        }
    }

    private final List<Provider<F>> providers = new CopyOnWriteArrayList<>();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    /** Leases held, by factory. Guarded by itself. */
    private final Map<F, List<Lease>> leases = new IdentityHashMap<>();
    private volatile long drainTimeoutNs = DEFAULT_DRAIN_TIMEOUT_NS;
    /** Why no provider is expected any more (the framework stops), or null while one may come. */
    private volatile String ended;

    /** An empty set; a factory's name and availability come from the factory itself. */
    protected BackendProviders() {
    }

    /** Adds every factory {@link ServiceLoader} finds for {@code type}, at its own {@link BackendFactory#ranking()}. */
    protected final void loadServices(Class<F> type) {
        for (F f : ServiceLoader.load(type, getClass().getClassLoader())) {
            add(f, f.ranking()); // the rank its OSGi service has, whatever the class path's order
        }
    }

    /** Makes {@code factory} available; listening contexts reconsider their choice. */
    public void add(F factory, int ranking) {
        providers.add(new Provider<>(factory, factory.name(), ranking));
        ended = null; // one came after all: requests wait for providers again
        fire();
    }

    /**
     * Says that no provider will be added any more, and why (the framework is stopping).
     * Requests held for a provider then fail at the context's next loop iteration instead
     * of after backend-wait-ms, and new ones that find none fail the same way: a shutdown
     * is not held up by work waiting for a bundle that is not coming back. Providers still
     * registered keep serving; a later {@link #add} makes requests wait again.
     */
    public void end(String why) {
        ended = Objects.requireNonNull(why, "why");
        fire();
    }

    /** Why no provider will come any more, or null while one may. */
    public String ended() {
        return ended;
    }

    /**
     * Gives {@code factory} a new ranking (adding it if absent) in one step, so a context
     * reconsidering meanwhile never sees it missing, and listeners hear of it once. A
     * remove followed by an add would let a context swap away from a backend that only
     * changed its ranking.
     */
    public void rerank(F factory, int ranking) {
        // replaceAll is one copy-on-write step; SCR calls bind/updated of one factory in order.
        if (providers.stream().noneMatch(p -> p.factory() == factory)) {
            providers.add(new Provider<>(factory, factory.name(), ranking));
        } else {
            providers.replaceAll(p -> p.factory() == factory ? new Provider<>(factory, p.name(), ranking) : p);
        }
        fire();
    }

    /**
     * Withdraws {@code factory}: contexts using it move to another backend at their next
     * safe point, and this returns once every backend opened from it has drained and
     * closed, or after {@link #drainTimeoutNs()} (logged, naming who still holds it).
     * Leases held by contexts whose home thread is the calling thread are not waited for
     * (that thread cannot reach its safe point while it waits here).
     */
    public void remove(F factory) {
        if (providers.removeIf(p -> p.factory() == factory)) {
            fire();
            awaitReleased(factory);
        }
    }

    /**
     * Records that {@code holder} opened a backend from {@code factory}, in a context
     * whose home thread {@code home} gives (null while it has none).
     */
    public Lease lease(F factory, String holder, Supplier<Thread> home) {
        Lease l = new Lease(factory, holder, home);
        synchronized (leases) {
            leases.computeIfAbsent(factory, f -> new ArrayList<>()).add(l);
        }
        return l;
    }

    /** Backends opened from {@code factory} and not closed yet. */
    public int leasesOf(F factory) {
        synchronized (leases) {
            List<Lease> held = leases.get(factory);
            return held == null ? 0 : held.size();
        }
    }

    /** How long {@link #remove} waits for the backends of a removed factory to close. */
    public long drainTimeoutNs() {
        return drainTimeoutNs;
    }

    public void setDrainTimeoutNs(long ns) {
        if (ns < 0) {
            throw new IllegalArgumentException("drain timeout must be >= 0 ns, got " + ns);
        }
        drainTimeoutNs = ns;
    }

    private void awaitReleased(F factory) {
        long deadline = System.nanoTime() + drainTimeoutNs;
        Thread me = Thread.currentThread();
        boolean interrupted = false;
        synchronized (leases) {
            while (true) {
                List<Lease> waiting = waitedFor(factory, me);
                if (waiting.isEmpty()) {
                    break;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    LOG.log(System.Logger.Level.WARNING, "{0} withdrawn while still in use by {1} after {2} ms; "
                            + "they close it once their requests have completed", factory.name(), waiting,
                            String.valueOf(TimeUnit.NANOSECONDS.toMillis(drainTimeoutNs)));
                    break;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(leases, left);
                } catch (InterruptedException e) {
                    interrupted = true; // finish waiting: the bundle's classes are still in use
                }
            }
        }
        if (interrupted) {
            me.interrupt();
        }
    }

    /** Caller holds leases' monitor. */
    private List<Lease> waitedFor(F factory, Thread me) {
        List<Lease> held = leases.get(factory);
        List<Lease> out = new ArrayList<>();
        if (held != null) {
            for (Lease l : held) {
                if (l.home.get() != me) {
                    out.add(l);
                }
            }
        }
        return out;
    }

    /** The highest-ranked usable provider named {@code name}, or null. */
    public Provider<F> best(String name) {
        Provider<F> best = null;
        for (Provider<F> p : providers) {
            if (p.name().equals(name) && p.factory().unavailableReason() == null
                    && (best == null || p.ranking() > best.ranking())) {
                best = p;
            }
        }
        return best;
    }

    /** The highest-ranked usable provider of any name, or null. */
    public Provider<F> best() {
        Provider<F> best = null;
        for (Provider<F> p : providers) {
            if (p.factory().unavailableReason() == null && (best == null || p.ranking() > best.ranking())) {
                best = p;
            }
        }
        return best;
    }

    /** Null when {@code factory} can open backends here, else why not. */
    public String unavailableReason(F factory) {
        return factory.unavailableReason();
    }

    /** The factory's name. */
    public String nameOf(F factory) {
        return factory.name();
    }

    /** Every provider, highest ranking first. */
    public List<Provider<F>> list() {
        List<Provider<F>> out = new ArrayList<>(providers);
        out.sort(Comparator.comparingInt((Provider<F> p) -> p.ranking()).reversed());
        return out;
    }

    /** Whether {@code factory} is still registered. */
    public boolean contains(F factory) {
        for (Provider<F> p : providers) {
            if (p.factory() == factory) {
                return true;
            }
        }
        return false;
    }

    /**
     * Why no provider named {@code name} can serve: none registered (with the names that
     * are), or each one's own reason.
     */
    public String whyNot(String name) {
        List<Provider<F>> all = list();
        StringBuilder sb = new StringBuilder();
        List<String> names = new ArrayList<>();
        for (Provider<F> p : all) {
            names.add(p.name());
            if (p.name().equals(name)) {
                String why = p.factory().unavailableReason();
                sb.append(sb.isEmpty() ? "" : "; ").append(why == null ? "available" : why);
            }
        }
        if (!sb.isEmpty()) {
            return sb.toString();
        }
        return all.isEmpty() ? "no provider is installed" : "no provider named '" + name + "'; installed: "
                + String.join(", ", names);
    }

    /** Runs {@code listener} (on the changing thread) after every change. */
    public void addListener(Runnable listener) {
        listeners.add(listener);
    }

    public void removeListener(Runnable listener) {
        listeners.remove(listener);
    }

    private void fire() {
        for (Runnable l : listeners) {
            l.run();
        }
    }
}
