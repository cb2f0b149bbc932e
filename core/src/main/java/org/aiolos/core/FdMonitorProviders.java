package org.aiolos.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.concurrent.CopyOnWriteArrayList;
import org.aiolos.api.fdmon.FdMonitorFactory;

/**
 * The fd-monitor factories contexts may choose from, with their rankings. In OSGi the
 * core component feeds it from the service registry; on the module or class path it is
 * filled from {@link ServiceLoader}. Contexts listen to it and swap monitors at a safe
 * point of their loops when it changes.
 *
 * <p>The poll(2) monitor is built in and always available, whether or not a poll
 * provider is listed here.
 */
public final class FdMonitorProviders {
    private static volatile FdMonitorProviders system;

    /** A registered factory and its {@code service.ranking}. */
    public record Provider(FdMonitorFactory factory, int ranking) {
        public Provider {
            Objects.requireNonNull(factory, "factory");
        }

        public String name() {
            return factory.name();
        }
    }

    private final List<Provider> providers = new CopyOnWriteArrayList<>();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    /** An empty set: only the built-in poll monitor. */
    public FdMonitorProviders() {
    }

    /**
     * The process-wide set, loaded from {@link ServiceLoader} on first use (ranking 0
     * unless the factory's class says otherwise through {@link #add}).
     */
    public static FdMonitorProviders system() {
        FdMonitorProviders s = system;
        if (s == null) {
            synchronized (FdMonitorProviders.class) {
                s = system;
                if (s == null) {
                    s = new FdMonitorProviders();
                    for (FdMonitorFactory f : ServiceLoader.load(FdMonitorFactory.class, FdMonitorProviders.class.getClassLoader())) {
                        s.add(f, 0);
                    }
                    system = s;
                }
            }
        }
        return s;
    }

    /** Makes {@code factory} available; contexts reconsider their choice. */
    public void add(FdMonitorFactory factory, int ranking) {
        providers.add(new Provider(factory, ranking));
        fire();
    }

    /** Withdraws {@code factory}; contexts using it move to another monitor. */
    public void remove(FdMonitorFactory factory) {
        if (providers.removeIf(p -> p.factory() == factory)) {
            fire();
        }
    }

    /** The best provider named {@code name} that can open monitors here, or null. */
    public Provider best(String name) {
        Provider best = null;
        for (Provider p : providers) {
            if (p.name().equals(name) && p.factory().unavailableReason() == null
                    && (best == null || p.ranking() > best.ranking())) {
                best = p;
            }
        }
        return best;
    }

    /** Every provider, highest ranking first. */
    public List<Provider> list() {
        List<Provider> out = new ArrayList<>(providers);
        out.sort(Comparator.comparingInt(Provider::ranking).reversed());
        return out;
    }

    /** Whether {@code factory} is still registered. */
    public boolean contains(FdMonitorFactory factory) {
        for (Provider p : providers) {
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
