/**
 * The NBD export server: the fixed-newstyle NBD protocol served by an AioContext, one
 * coroutine per request, disk I/O through the context's disk-I/O engine.
 */
module org.aiolos.nbd {
    requires transitive org.aiolos.api;
    requires transitive org.aiolos.core;
    requires org.aiolos.linux;
    requires static org.osgi.annotation.bundle;
    requires static org.osgi.annotation.versioning;
    requires static org.osgi.service.component.annotations;
    // org.aiolos.nbd.osgi (not exported): exports from Config Admin and the nbd commands.
    requires static org.osgi.service.metatype.annotations;
    requires static osgi.core;
    requires static org.osgi.service.cm;
    // Gogo's @Descriptor on the nbd commands (read by Gogo at run time, in OSGi only).
    requires static org.apache.felix.gogo.runtime;
    // ... and each served export's MBean.
    requires java.management;
    // Flight Recorder events (org.aiolos.nbd.jfr, not exported).
    requires jdk.jfr;

    exports org.aiolos.nbd;
}
