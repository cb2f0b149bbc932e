package org.aiolos.core.osgi;

import org.aiolos.core.jfr.CoreEvents;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/** Ties core's Flight Recorder event types to the bundle's life: registered while it runs. */
@Component(service = {}, immediate = true)
public final class FlightRecorderEvents {
    @Activate
    void activate() {
        CoreEvents.register();
    }

    @Deactivate
    void deactivate() {
        CoreEvents.unregister();
    }
}
