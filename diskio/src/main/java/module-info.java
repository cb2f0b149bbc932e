/**
 * What the disk-I/O engines share (QEMU keeps the same rules in block/file-posix.c around
 * each engine): request validation, result rules, the request pool and the admission front end.
 */
module org.aiolos.diskio {
    requires transitive org.aiolos.api;
    requires org.aiolos.linux;
    requires static org.osgi.annotation.bundle;
    requires static org.osgi.annotation.versioning;

    exports org.aiolos.diskio;
}
