/**
 * The public API of Aiolos: QEMU's AioContext event loop for the JVM, and the service
 * provider interfaces its backends implement. No implementation lives here.
 */
module org.aiolos.api {
    requires static org.osgi.annotation.bundle;
    requires static org.osgi.annotation.versioning;

    exports org.aiolos.api;
    exports org.aiolos.api.fdmon;
    exports org.aiolos.api.threadpool;
    exports org.aiolos.api.diskio;
    exports org.aiolos.api.coroutine;

    uses org.aiolos.api.coroutine.CoroutineRuntime;
}
