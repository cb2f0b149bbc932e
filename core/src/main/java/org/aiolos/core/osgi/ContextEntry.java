package org.aiolos.core.osgi;

import org.aiolos.core.AiolosContext;
import org.osgi.framework.ServiceReference;

/**
 * A context service as the shell sees it: the context and its service reference. The
 * properties are read from the reference each time, never copied: a command that has just
 * seen an IOThread publish a rejected update through the registry must find the same
 * properties here, and a copy refreshed by SCR's modified callback can still lag behind.
 */
record ContextEntry(AiolosContext context, ServiceReference<?> ref) {

    String name() {
        return context.name();
    }

    String prop(String key, String dflt) {
        Object v = ref.getProperty(key);
        return v == null || v.toString().isEmpty() ? dflt : v.toString();
    }
}
