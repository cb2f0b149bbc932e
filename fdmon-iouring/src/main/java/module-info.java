/** The io_uring fd monitor (one-shot POLL_ADD re-armed after each completion) and the io_uring disk-I/O engine. */
module org.aiolos.fdmon.iouring {
    requires org.aiolos.api;
    requires org.aiolos.linux;
    requires static org.osgi.annotation.bundle;
    requires static org.osgi.annotation.versioning;
    requires static org.osgi.service.component.annotations;

    exports org.aiolos.fdmon.iouring;
    exports org.aiolos.fdmon.iouring.diskio;

    provides org.aiolos.api.fdmon.FdMonitorFactory with org.aiolos.fdmon.iouring.IoUringFdMonitorFactory;
    provides org.aiolos.api.diskio.DiskIoEngineFactory with org.aiolos.fdmon.iouring.diskio.IoUringEngineFactory;
}
