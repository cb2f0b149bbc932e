package org.aiolos.itests;

import java.util.Collection;
import org.aiolos.api.AioContext;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/** Finds IOThread context services by name. */
final class Contexts {
    private Contexts() {
    }

    static ServiceReference<AioContext> ref(BundleContext bc, String name) {
        try {
            Collection<ServiceReference<AioContext>> refs =
                    bc.getServiceReferences(AioContext.class, "(aiolos.name=" + name + ")");
            return refs.isEmpty() ? null : refs.iterator().next();
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static AioContext get(BundleContext bc, String name) {
        ServiceReference<AioContext> r = ref(bc, name);
        return r == null ? null : bc.getService(r);
    }

    static AioContext await(BundleContext bc, String name) throws InterruptedException {
        return Await.value("context service " + name, 10_000, () -> get(bc, name));
    }
}
