package org.aiolos.itests;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/** The backend bundles: fd monitors by monitor name, others by symbolic name. */
final class Backends {
    static final String[] MONITORS = {"poll", "epoll", "io_uring"};

    private Backends() {
    }

    static Bundle bundle(BundleContext bc, String monitor) {
        return bundleNamed(bc, "org.aiolos.fdmon." + monitor.replace("_", ""));
    }

    static Bundle bundleNamed(BundleContext bc, String bsn) {
        for (Bundle b : bc.getBundles()) {
            if (bsn.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new IllegalStateException("no bundle " + bsn);
    }
}
