package org.aiolos.nbd.osgi;

import org.aiolos.nbd.jfr.NbdEventTypes;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/** Ties the NBD Flight Recorder event types to the bundle's life: registered while it runs. */
@Component(service = {}, immediate = true)
public final class FlightRecorderEvents {
    @Activate
    void activate() {
        NbdEventTypes.register();
    }

    @Deactivate
    void deactivate() {
        NbdEventTypes.unregister();
    }
}
