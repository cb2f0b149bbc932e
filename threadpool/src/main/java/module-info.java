/** The worker thread pool (QEMU util/thread-pool.c), one pool per AioContext, and the threads disk-I/O engine on it. */
module org.aiolos.threadpool {
    requires org.aiolos.api;
    requires org.aiolos.linux;
    requires org.aiolos.diskio;
    requires static org.osgi.annotation.bundle;
    requires static org.osgi.annotation.versioning;
    requires static org.osgi.service.component.annotations;

    exports org.aiolos.threadpool;
    exports org.aiolos.threadpool.diskio;

    provides org.aiolos.api.threadpool.ThreadPoolFactory with org.aiolos.threadpool.WorkerPoolFactory;
    provides org.aiolos.api.diskio.DiskIoEngineFactory with org.aiolos.threadpool.diskio.ThreadsEngineFactory;
}
