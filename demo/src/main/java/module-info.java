/**
 * The distribution's live workload: a TCP echo service on 127.0.0.1 served by an
 * IOThread's context through its fd monitor, with a client that pings it.
 */
module org.aiolos.demo {
    requires org.aiolos.api;
    requires org.aiolos.linux;
    // The JPMS-mode main (org.aiolos.demo.jpms, not exported) opens contexts through core.
    requires org.aiolos.core;
    requires static org.osgi.annotation.bundle;
    requires static org.osgi.annotation.versioning;
    requires static org.osgi.service.component.annotations;
    requires static org.osgi.service.metatype.annotations;
    // The filter of context.target, checked by EchoTargetWatch (in OSGi only).
    requires static osgi.core;

    exports org.aiolos.demo;
}
