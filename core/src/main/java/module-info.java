/**
 * The AioContext implementation: the loop, bottom halves, timers, fd handlers with
 * adaptive polling, IOThreads, fd-monitor selection and hot swap, and the coroutine
 * runtime with its locks.
 */
module org.aiolos.core {
    requires transitive org.aiolos.api;
    requires org.aiolos.linux;
    requires org.aiolos.diskio;
    requires static org.osgi.annotation.bundle;
    requires static org.osgi.annotation.versioning;
    requires static org.osgi.service.component.annotations;
    // The OSGi components (org.aiolos.core.osgi, not exported) compile against these; on a
    // plain module path nothing loads that package, so they need not be present.
    requires static org.osgi.service.metatype.annotations;
    requires static osgi.core;
    requires static org.osgi.service.cm;
    // Gogo's @Descriptor on the shell commands (read by Gogo at run time, in OSGi only).
    requires static org.apache.felix.gogo.runtime;
    // Context statistics as MBeans.
    requires java.management;
    // org.aiolos.core.config reads the Metatype XML of a bundle.
    requires java.xml;
    // Flight Recorder events (org.aiolos.core.jfr, not exported).
    requires jdk.jfr;

    exports org.aiolos.core;
    exports org.aiolos.core.clock;
    // Configuration checks and storage for the OSGi side (Aiolos bundles and their users).
    exports org.aiolos.core.config;

    uses org.aiolos.api.fdmon.FdMonitorFactory;
    uses org.aiolos.api.diskio.DiskIoEngineFactory;
    uses org.aiolos.api.threadpool.ThreadPoolFactory;

    provides org.aiolos.api.coroutine.CoroutineRuntime with org.aiolos.core.coroutine.CoroutineEngine;
}
