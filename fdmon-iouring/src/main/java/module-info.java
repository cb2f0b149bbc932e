/** The io_uring fd monitor (QEMU util/fdmon-io_uring.c): one-shot POLL_ADD re-armed after each completion. */
module org.aiolos.fdmon.iouring {
    requires org.aiolos.api;
    requires org.aiolos.linux;
    requires static org.osgi.annotation.bundle;
    requires static org.osgi.annotation.versioning;
    requires static org.osgi.service.component.annotations;

    exports org.aiolos.fdmon.iouring;

    provides org.aiolos.api.fdmon.FdMonitorFactory with org.aiolos.fdmon.iouring.IoUringFdMonitorFactory;
}
