package org.aiolos.core.osgi;

import java.util.Map;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.core.FdMonitorProviders;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * Mirrors the fd-monitor services of the framework into one {@link FdMonitorProviders}
 * that every IOThread of this bundle chooses from. A monitor bundle that starts is bound
 * at once (greedy) and contexts move to it if it is better; one that stops is unbound and
 * contexts using it move away at their next safe point.
 */
@Component(service = FdMonitorRegistry.class, immediate = true)
public final class FdMonitorRegistry {
    private final FdMonitorProviders providers = new FdMonitorProviders();

    @Reference(service = FdMonitorFactory.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindFdMonitor(FdMonitorFactory factory, Map<String, Object> props) {
        providers.add(factory, ranking(props));
    }

    /**
     * Removes exactly this factory, compared by identity: another service with the same
     * name (a replacement SCR bound before this unbind) stays.
     */
    void unbindFdMonitor(FdMonitorFactory factory) {
        providers.remove(factory);
    }

    /** A ranking change is a remove and an add, so contexts reconsider their choice. */
    void updatedFdMonitor(FdMonitorFactory factory, Map<String, Object> props) {
        providers.remove(factory);
        providers.add(factory, ranking(props));
    }

    public FdMonitorProviders providers() {
        return providers;
    }

    private static int ranking(Map<String, Object> props) {
        return props.get("service.ranking") instanceof Integer i ? i : 0;
    }
}
