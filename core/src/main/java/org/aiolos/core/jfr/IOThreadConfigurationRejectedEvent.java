package org.aiolos.core.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * An IOThread configuration (factory PID {@code org.aiolos.iothread}) that was rejected:
 * a first version that starts no IOThread, or an update the running IOThread refused
 * while keeping its previous settings. Rare, so it is allocated when committed.
 */
@Name("org.aiolos.IOThreadConfigurationRejected")
@Label("IOThread Configuration Rejected")
@Category({"Aiolos", "Configuration"})
@Description("An IOThread configuration from Config Admin was rejected; the message names each bad field")
@StackTrace(false)
public final class IOThreadConfigurationRejectedEvent extends jdk.jfr.Event {
    private static final IOThreadConfigurationRejectedEvent PROBE = new IOThreadConfigurationRejectedEvent();

    @Label("PID")
    @Description("The configuration's PID in Config Admin")
    String pid;

    @Label("IOThread")
    String name;

    @Label("Update")
    @Description("True when a running IOThread refused an update and kept its settings; false when none started")
    boolean update;

    @Label("Fields")
    @Description("The rejected fields, comma-separated")
    String fields;

    @Label("Message")
    String message;

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
        IOThreadConfigurationRejectedEvent e = new IOThreadConfigurationRejectedEvent();
        e.pid = pid == null ? "" : pid.toString();
        e.name = name;
        e.update = update;
        e.fields = RejectedFields.of(message);
        e.message = message;
        e.commit();
    }
}
