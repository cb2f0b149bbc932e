/**
 * The io_uring disk-I/O engine (QEMU's block/io_uring.c): a ring of the engine's own per
 * context, apart from the io_uring fd monitor (util/fdmon-io_uring.c) as in QEMU.
 */
module org.aiolos.diskio.iouring {
    requires org.aiolos.api;
    requires org.aiolos.linux;
    requires org.aiolos.diskio;
    requires static org.osgi.annotation.bundle;
    requires static org.osgi.annotation.versioning;
    requires static org.osgi.service.component.annotations;

    exports org.aiolos.diskio.iouring;

    provides org.aiolos.api.diskio.DiskIoEngineFactory with org.aiolos.diskio.iouring.IoUringEngineFactory;
}
