package org.aiolos.core;

import org.aiolos.api.diskio.DiskIoEngineFactory;

/**
 * The disk-I/O engine factories contexts choose from ({@code threads}, {@code native},
 * {@code io_uring}). There is no built-in engine: with none available, submissions fail
 * with a message saying so.
 */
public final class DiskIoEngineProviders extends BackendProviders<DiskIoEngineFactory> {
    private static volatile DiskIoEngineProviders system;

    /** An empty set. */
    public DiskIoEngineProviders() {
        super();
    }

    /** The process-wide set, loaded from {@link java.util.ServiceLoader} on first use. */
    public static DiskIoEngineProviders system() {
        DiskIoEngineProviders s = system;
        if (s == null) {
            synchronized (DiskIoEngineProviders.class) {
                s = system;
                if (s == null) {
                    s = new DiskIoEngineProviders();
                    s.loadServices(DiskIoEngineFactory.class);
                    system = s;
                }
            }
        }
        return s;
    }
}
