/** The worker thread pool (QEMU util/thread-pool.c): one pool per AioContext. */
module org.aiolos.threadpool {
    requires org.aiolos.api;
    requires static org.osgi.annotation.bundle;
    requires static org.osgi.annotation.versioning;
    requires static org.osgi.service.component.annotations;

    exports org.aiolos.threadpool;

    provides org.aiolos.api.threadpool.ThreadPoolFactory with org.aiolos.threadpool.WorkerPoolFactory;
}
