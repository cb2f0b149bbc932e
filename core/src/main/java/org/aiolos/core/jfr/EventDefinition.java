package org.aiolos.core.jfr;

import java.util.ArrayList;
import java.util.List;
import jdk.jfr.AnnotationElement;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.EventFactory;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;
import jdk.jfr.Timespan;
import jdk.jfr.ValueDescriptor;

/**
 * Builds one event type for {@link EventFactory}: its name, label, description, category
 * and threshold, then its fields in order ({@link #field} returns the index that
 * {@link jdk.jfr.Event#set} takes). Stack traces are off: the events say where they come
 * from in their fields.
 *
 * <p>Why a factory and not {@code jdk.jfr.Event} subclasses: JFR instruments a subclass
 * with calls into its internal package {@code jdk.jfr.internal.event}, which a bundle's
 * class loader cannot load unless the OSGi container boot-delegates that package (Felix
 * and Karaf do not by default; the first commit fails with a NoClassDefFoundError). A
 * factory-made event class lives in JFR's own loader, so the same events work in Felix,
 * Equinox, Karaf and on the module path with no container setting, and JFR holds no
 * reference to the bundle's class loader.
 */
final class EventDefinition {
    private final List<AnnotationElement> type = new ArrayList<>();
    private final List<ValueDescriptor> fields = new ArrayList<>();

    EventDefinition(String name, String label, String description, String... category) {
        type.add(new AnnotationElement(Name.class, name));
        type.add(new AnnotationElement(Label.class, label));
        type.add(new AnnotationElement(Description.class, description));
        type.add(new AnnotationElement(Category.class, category));
        type.add(new AnnotationElement(StackTrace.class, false));
    }

    /** A duration event committed only when it lasted at least {@code threshold} ("10 ms"). */
    EventDefinition threshold(String threshold) {
        type.add(new AnnotationElement(Threshold.class, threshold));
        return this;
    }

    /** @return the field's index */
    int field(Class<?> valueType, String name, String label, String description) {
        List<AnnotationElement> a = new ArrayList<>(List.of(new AnnotationElement(Label.class, label)));
        if (description != null) {
            a.add(new AnnotationElement(Description.class, description));
        }
        fields.add(new ValueDescriptor(valueType, name, a));
        return fields.size() - 1;
    }

    /** A {@code long} of nanoseconds, shown as a duration; @return the field's index */
    int nanos(String name, String label, String description) {
        fields.add(new ValueDescriptor(long.class, name, List.of(new AnnotationElement(Label.class, label),
                new AnnotationElement(Description.class, description),
                new AnnotationElement(Timespan.class, Timespan.NANOSECONDS))));
        return fields.size() - 1;
    }

    /** Defines and registers the event type. */
    EventFactory create() {
        return EventFactory.create(type, fields);
    }
}
