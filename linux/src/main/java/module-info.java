/** FFM bindings to the Linux system calls Aiolos uses; the only module that touches java.lang.foreign. */
module org.aiolos.linux {
    requires transitive org.aiolos.api;
    requires static org.osgi.annotation.bundle;
    requires static org.osgi.annotation.versioning;

    exports org.aiolos.linux;
}
