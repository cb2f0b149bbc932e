package org.aiolos.core;

import org.aiolos.api.threadpool.ThreadPoolFactory;

/**
 * The thread-pool factories contexts choose from. Unlike fd monitoring there is no
 * built-in fallback: with no provider, submissions fail with an explanation until one is
 * added.
 */
public final class ThreadPoolProviders extends BackendProviders<ThreadPoolFactory> {
    private static volatile ThreadPoolProviders system;

    /** An empty set. */
    public ThreadPoolProviders() {
        super();
    }

    /** The process-wide set, loaded from {@link java.util.ServiceLoader} on first use. */
    public static ThreadPoolProviders system() {
        ThreadPoolProviders s = system;
        if (s == null) {
            synchronized (ThreadPoolProviders.class) {
                s = system;
                if (s == null) {
                    s = new ThreadPoolProviders();
                    s.loadServices(ThreadPoolFactory.class);
                    system = s;
                }
            }
        }
        return s;
    }
}
