package org.aiolos.core.osgi;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
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
}
