/** The Linux AIO ({@code native}) disk-I/O engine: io_setup / io_submit / io_getevents. */
module org.aiolos.linuxaio {
    requires org.aiolos.api;
    requires org.aiolos.linux;
    requires org.aiolos.diskio;
    requires static org.osgi.annotation.bundle;
    requires static org.osgi.annotation.versioning;
    requires static org.osgi.service.component.annotations;

    exports org.aiolos.linuxaio;

    provides org.aiolos.api.diskio.DiskIoEngineFactory with org.aiolos.linuxaio.LinuxAioEngineFactory;
}
