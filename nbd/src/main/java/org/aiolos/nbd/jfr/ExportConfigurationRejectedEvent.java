package org.aiolos.nbd.jfr;

import java.util.Arrays;
import java.util.stream.Collectors;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * An NBD export configuration (factory PID {@code org.aiolos.nbd.export}) that was
 * rejected: invalid, clashing with another export, or not servable (its port taken). A
 * first version then serves nothing; a refused update leaves the previous settings
 * serving. Rare, so it is allocated when committed.
 */
@Name("org.aiolos.nbd.ExportConfigurationRejected")
@Label("NBD Export Configuration Rejected")
@Category({"Aiolos", "Configuration"})
@Description("An NBD export configuration from Config Admin was rejected; the message names each bad field")
@StackTrace(false)
public final class ExportConfigurationRejectedEvent extends jdk.jfr.Event {
    private static final ExportConfigurationRejectedEvent PROBE = new ExportConfigurationRejectedEvent();

    @Label("PID")
    @Description("The configuration's PID in Config Admin")
    String pid;

    @Label("Export")
    String name;

    @Label("Update")
    @Description("True when an update was refused and the previous settings serve on")
    boolean update;

    @Label("Fields")
    @Description("The rejected fields, comma-separated")
    String fields;

    @Label("Message")
    String message;

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
        ExportConfigurationRejectedEvent e = new ExportConfigurationRejectedEvent();
        e.pid = pid;
        e.name = name;
        e.update = update;
        e.fields = Arrays.stream(message.split("; ")).filter(err -> err.indexOf(':') > 0)
                .map(err -> err.substring(0, err.indexOf(':')).trim()).distinct().collect(Collectors.joining(","));
        e.message = message;
        e.commit();
    }
}
