package org.aiolos.core.osgi;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.service.component.annotations.Component;

/**
 * IOThread configurations that have no IOThread because their first version was
 * invalid, with the reason: the shell lists them, and {@code aio:configure} reports the
 * reason instead of waiting for an IOThread that will not come. An update that fixes the
 * configuration starts the IOThread and clears the entry.
 */
@Component(service = RejectedConfigurations.class, immediate = true)
public final class RejectedConfigurations {
    private final Map<String, String> byName = new ConcurrentSkipListMap<>();
    /** PIDs of IOThread configurations whose component has tried them (started or refused). */
    private final Set<Object> tried = ConcurrentHashMap.newKeySet();
    private final List<Runnable> triedListeners = new CopyOnWriteArrayList<>();

    void reject(String name, String reason) {
        byName.put(name, reason);
    }

    void clear(String name) {
        byName.remove(name);
    }

    String reasonFor(String name) {
        return byName.get(name);
    }

    Map<String, String> all() {
        return Map.copyOf(byName);
    }

    /**
     * Configuration {@code pid} has been tried: its IOThread runs, or it was refused. The
     * default IOThread waits for this at a cold start instead of starting and stopping at
     * once. Listeners run on the calling thread.
     */
    void tried(Object pid) {
        tried.add(pid);
        for (Runnable l : triedListeners) {
            l.run();
        }
    }

    /** The configuration's component went (deleted, or the bundle stops). */
    void forget(Object pid) {
        tried.remove(pid);
    }

    boolean wasTried(Object pid) {
        return tried.contains(pid);
    }

    void addTriedListener(Runnable l) {
        triedListeners.add(l);
    }

    void removeTriedListener(Runnable l) {
        triedListeners.remove(l);
    }
}
