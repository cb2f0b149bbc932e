package org.aiolos.launcher;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleListener;
import org.osgi.framework.ServiceListener;

/**
 * Waits for the container to settle before a script's first command: IOThreads and exports
 * come from configurations that Config Admin delivers on its own thread after the bundles
 * have started, so "started" is not yet "serving". Settled means no bundle or service
 * event for {@value #QUIET_MS} ms, bounded by {@value #LIMIT_MS} ms. A convenience for
 * scripts, not a guarantee: a script that must be sure checks for itself (nbd:list).
 */
final class Settle {
    static final long QUIET_MS = 300;
    static final long LIMIT_MS = 15_000;

    private Settle() {
    }

    static void await(BundleContext bc) throws InterruptedException {
        AtomicLong last = new AtomicLong(System.nanoTime());
        ServiceListener services = e -> last.set(System.nanoTime());
        BundleListener bundles = e -> last.set(System.nanoTime());
        bc.addServiceListener(services);
        bc.addBundleListener(bundles);
        try {
            long limit = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LIMIT_MS);
            long quiet = TimeUnit.MILLISECONDS.toNanos(QUIET_MS);
            while (System.nanoTime() - last.get() < quiet && System.nanoTime() < limit) {
                Thread.sleep(50);
            }
        } finally {
            bc.removeServiceListener(services);
            bc.removeBundleListener(bundles);
        }
    }
}
