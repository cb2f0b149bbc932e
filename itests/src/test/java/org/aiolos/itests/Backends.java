package org.aiolos.itests;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/** The fd-monitor bundles, by monitor name. */
final class Backends {
    static final String[] MONITORS = {"poll", "epoll", "io_uring"};

    private Backends() {
    }

    static Bundle bundle(BundleContext bc, String monitor) {
        String bsn = "org.aiolos.fdmon." + monitor.replace("_", "");
        for (Bundle b : bc.getBundles()) {
            if (bsn.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new IllegalStateException("no bundle " + bsn);
    }
}
