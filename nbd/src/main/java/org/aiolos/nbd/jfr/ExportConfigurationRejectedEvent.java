package org.aiolos.nbd.jfr;

import java.util.Arrays;
import java.util.stream.Collectors;
import jdk.jfr.Event;

/**
 * {@code org.aiolos.nbd.ExportConfigurationRejected}: an NBD export configuration (factory
 * PID {@code org.aiolos.nbd.export}) that was rejected: invalid, clashing with another
 * export, or not servable (its port taken). A first version then serves nothing; a
 * refused update leaves the previous settings serving. Rare, so an event is allocated
 * only when a recording wants it.
 */
public final class ExportConfigurationRejectedEvent {
    private static final Event PROBE = NbdEventTypes.REJECTED.newEvent();

    private ExportConfigurationRejectedEvent() {
    }

    /**
     * Records a rejection if a recording wants it.
     *
     * @param message each error starts with its field ({@code "port: ..."}), several
     *     separated by {@code "; "}
     */
    public static void emit(String pid, String name, boolean update, String message) {
        if (!PROBE.isEnabled()) {
            return;
        }
        Event e = NbdEventTypes.REJECTED.newEvent();
        e.set(NbdEventTypes.PID, pid);
        e.set(NbdEventTypes.NAME, name);
        e.set(NbdEventTypes.UPDATE, update);
        e.set(NbdEventTypes.FIELDS, Arrays.stream(message.split("; ")).filter(err -> err.indexOf(':') > 0)
                .map(err -> err.substring(0, err.indexOf(':')).trim()).distinct().collect(Collectors.joining(",")));
        e.set(NbdEventTypes.MESSAGE, message);
        e.commit();
    }
}
