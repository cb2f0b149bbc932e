package org.aiolos.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * The factories of one kind of backend (fd monitors, thread pools, disk-I/O engines)
 * that contexts may choose from, each with a name and a ranking. In OSGi the core
 * component feeds it from the service registry (name and {@code service.ranking} service
 * properties); on the module or class path it is filled from {@link ServiceLoader}.
 * Contexts listen to it and switch backends at a safe point when it changes.
 *
 * @param <F> the factory type
 */
public class BackendProviders<F> {

    /** A registered factory with its name and {@code service.ranking}. */
    public record Provider<F>(F factory, String name, int ranking) {
        public Provider {
            Objects.requireNonNull(factory, "factory");
            Objects.requireNonNull(name, "name");
        }
    }

    private final Function<F, String> nameOf;
    private final Function<F, String> unavailableReasonOf;
    private final List<Provider<F>> providers = new CopyOnWriteArrayList<>();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    /**
     * @param nameOf the factory's name
     * @param unavailableReasonOf null when the factory can open backends here, else why not
     */
    protected BackendProviders(Function<F, String> nameOf, Function<F, String> unavailableReasonOf) {
        this.nameOf = Objects.requireNonNull(nameOf, "nameOf");
        this.unavailableReasonOf = Objects.requireNonNull(unavailableReasonOf, "unavailableReasonOf");
    }

    /** Adds every factory {@link ServiceLoader} finds for {@code type}, at ranking 0. */
    protected final void loadServices(Class<F> type) {
        for (F f : ServiceLoader.load(type, getClass().getClassLoader())) {
            add(f, 0);
        }
    }

    /** Makes {@code factory} available; listening contexts reconsider their choice. */
    public void add(F factory, int ranking) {
        providers.add(new Provider<>(factory, nameOf.apply(factory), ranking));
        fire();
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
            providers.add(new Provider<>(factory, nameOf.apply(factory), ranking));
        } else {
            providers.replaceAll(p -> p.factory() == factory ? new Provider<>(factory, p.name(), ranking) : p);
        }
        fire();
    }

    /** Withdraws {@code factory}; contexts using it move to another backend. */
    public void remove(F factory) {
        if (providers.removeIf(p -> p.factory() == factory)) {
            fire();
        }
    }

    /** The highest-ranked usable provider named {@code name}, or null. */
    public Provider<F> best(String name) {
        Provider<F> best = null;
        for (Provider<F> p : providers) {
            if (p.name().equals(name) && unavailableReasonOf.apply(p.factory()) == null
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
            if (unavailableReasonOf.apply(p.factory()) == null && (best == null || p.ranking() > best.ranking())) {
                best = p;
            }
        }
        return best;
    }

    /** Null when {@code factory} can open backends here, else why not. */
    public String unavailableReason(F factory) {
        return unavailableReasonOf.apply(factory);
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
