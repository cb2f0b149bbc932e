package org.aiolos.core;

import org.aiolos.api.fdmon.FdMonitorFactory;

/**
 * The fd-monitor factories contexts choose from. The poll(2) monitor is built into core
 * and always available, whether or not a poll provider is listed here.
 */
public final class FdMonitorProviders extends BackendProviders<FdMonitorFactory> {
    private static volatile FdMonitorProviders system;

    /** An empty set: only the built-in poll monitor. */
    public FdMonitorProviders() {
        super();
    }

    /** The process-wide set, loaded from {@link java.util.ServiceLoader} on first use. */
    public static FdMonitorProviders system() {
        FdMonitorProviders s = system;
        if (s == null) {
            synchronized (FdMonitorProviders.class) {
                s = system;
                if (s == null) {
                    s = new FdMonitorProviders();
                    s.loadServices(FdMonitorFactory.class);
                    system = s;
                }
            }
        }
        return s;
    }
}
