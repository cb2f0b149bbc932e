package org.aiolos.core.jfr;

import jdk.jfr.Event;
import jdk.jfr.EventFactory;

/**
 * {@code org.aiolos.IOThreadConfigurationRejected}: an IOThread configuration (factory PID
 * {@code org.aiolos.iothread}) that was rejected: a first version that starts no IOThread,
 * or an update the running IOThread refused while keeping its previous settings. Rare, so
 * an event is allocated only when a recording wants it.
 */
public final class IOThreadConfigurationRejectedEvent {
    private static final EventDefinition D = new EventDefinition("org.aiolos.IOThreadConfigurationRejected",
            "IOThread Configuration Rejected",
            "An IOThread configuration from Config Admin was rejected; the message names each bad field",
            "Aiolos", "Configuration");
    private static final int PID = D.field(String.class, "pid", "PID", "The configuration's PID in Config Admin");
    private static final int NAME = D.field(String.class, "name", "IOThread", null);
    private static final int UPDATE = D.field(boolean.class, "update", "Update",
            "True when a running IOThread refused an update and kept its settings; false when none started");
    private static final int FIELDS = D.field(String.class, "fields", "Fields", "The rejected fields, comma-separated");
    private static final int MESSAGE = D.field(String.class, "message", "Message", null);
    static final EventFactory FACTORY = D.create();
    private static final Event PROBE = FACTORY.newEvent();

    private IOThreadConfigurationRejectedEvent() {
    }

    /**
     * Records a rejection if a recording wants it.
     *
     * @param message the rejection, each error starting with its field ({@code "poll-max-ns: ..."},
     *     several separated by {@code "; "})
     */
    public static void emit(Object pid, String name, boolean update, String message) {
        if (!PROBE.isEnabled()) {
            return;
        }
        Event e = FACTORY.newEvent();
        e.set(PID, pid == null ? "" : pid.toString());
        e.set(NAME, name);
        e.set(UPDATE, update);
        e.set(FIELDS, RejectedFields.of(message));
        e.set(MESSAGE, message);
        e.commit();
    }
}
