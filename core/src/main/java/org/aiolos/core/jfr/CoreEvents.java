package org.aiolos.core.jfr;

import java.util.List;
import jdk.jfr.EventFactory;

/**
 * The event types of core, registered with JFR when first used. In OSGi the bundle's
 * component calls {@link #unregister()} when the bundle stops, so an updated or refreshed
 * core does not leave a second set of types of the same names behind, and
 * {@link #register()} when it starts again.
 */
public final class CoreEvents {
    private CoreEvents() {
    }

    private static List<EventFactory> all() {
        return List.of(SlowLoopIterationEvent.FACTORY, IOThreadConfigurationRejectedEvent.FACTORY,
                BackendSwapEvent.FACTORY);
    }

    public static void register() {
        all().forEach(EventFactory::register);
    }

    public static void unregister() {
        all().forEach(EventFactory::unregister);
    }
}
