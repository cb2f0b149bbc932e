package org.aiolos.core.osgi;

import java.util.Map;
import org.aiolos.core.AiolosContext;

/** A context service as the shell sees it: the context and its service properties. */
record ContextEntry(AiolosContext context, Map<String, Object> props) {

    String name() {
        return context.name();
    }

    String prop(String key, String dflt) {
        Object v = props.get(key);
        return v == null || v.toString().isEmpty() ? dflt : v.toString();
    }
}
