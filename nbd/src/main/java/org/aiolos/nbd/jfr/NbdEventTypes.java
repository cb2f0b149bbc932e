package org.aiolos.nbd.jfr;

import java.util.List;
import jdk.jfr.AnnotationElement;
import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.EventFactory;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;
import jdk.jfr.ValueDescriptor;

/**
 * The NBD event types, defined once and registered with JFR when first used; in OSGi the
 * bundle's component unregisters them when the bundle stops and registers them again when
 * it starts (as core's {@code CoreEvents} does).
 */
public final class NbdEventTypes {
    /** Field order of {@link #REQUEST}: the indexes {@code Event.set} takes. */
    static final int EXPORT = 0;
    static final int CLIENT = 1;
    static final int COMMAND = 2;
    static final int OFFSET = 3;
    static final int LENGTH = 4;
    static final int ERROR = 5;

    static final EventFactory REQUEST = EventFactory.create(List.of(
            new AnnotationElement(Name.class, "org.aiolos.nbd.Request"),
            new AnnotationElement(Label.class, "NBD Request"),
            new AnnotationElement(Description.class, "An NBD request whose service took longer than the threshold,"
                    + " with its export and client"),
            new AnnotationElement(Category.class, new String[] {"Aiolos", "NBD"}),
            new AnnotationElement(Threshold.class, "20 ms"),
            new AnnotationElement(StackTrace.class, false)), List.of(
            labelled(String.class, "export", "Export"),
            new ValueDescriptor(String.class, "client", List.of(new AnnotationElement(Label.class, "Client"),
                    new AnnotationElement(Description.class, "The client's address and the connection's number"))),
            labelled(String.class, "command", "Command"),
            labelled(long.class, "offset", "Offset"),
            new ValueDescriptor(long.class, "length", List.of(new AnnotationElement(Label.class, "Length"),
                    new AnnotationElement(DataAmount.class, DataAmount.BYTES))),
            new ValueDescriptor(int.class, "error", List.of(new AnnotationElement(Label.class, "Error"),
                    new AnnotationElement(Description.class, "The NBD error replied (EPERM = 1, EIO = 5, EINVAL = 22,"
                            + " ENOSPC = 28, ...); 0 for success")))));

    /** Field order of {@link #REJECTED}. */
    static final int PID = 0;
    static final int NAME = 1;
    static final int UPDATE = 2;
    static final int FIELDS = 3;
    static final int MESSAGE = 4;

    static final EventFactory REJECTED = EventFactory.create(List.of(
            new AnnotationElement(Name.class, "org.aiolos.nbd.ExportConfigurationRejected"),
            new AnnotationElement(Label.class, "NBD Export Configuration Rejected"),
            new AnnotationElement(Description.class, "An NBD export configuration from Config Admin was rejected;"
                    + " the message names each bad field"),
            new AnnotationElement(Category.class, new String[] {"Aiolos", "Configuration"}),
            new AnnotationElement(StackTrace.class, false)), List.of(
            labelled(String.class, "pid", "PID"),
            labelled(String.class, "name", "Export"),
            new ValueDescriptor(boolean.class, "update", List.of(new AnnotationElement(Label.class, "Update"),
                    new AnnotationElement(Description.class, "True when an update was refused and the previous"
                            + " settings serve on"))),
            labelled(String.class, "fields", "Fields"),
            labelled(String.class, "message", "Message")));

    private NbdEventTypes() {
    }

    private static ValueDescriptor labelled(Class<?> type, String name, String label) {
        return new ValueDescriptor(type, name, List.of(new AnnotationElement(Label.class, label)));
    }

    public static void register() {
        REQUEST.register();
        REJECTED.register();
    }

    public static void unregister() {
        REQUEST.unregister();
        REJECTED.unregister();
    }
}
