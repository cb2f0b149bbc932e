/** The poll(2) fd monitor: the one every context can fall back to. */
module org.aiolos.fdmon.poll {
    requires org.aiolos.api;
    requires org.aiolos.linux;
    requires static org.osgi.annotation.bundle;
    requires static org.osgi.annotation.versioning;
    requires static org.osgi.service.component.annotations;

    exports org.aiolos.fdmon.poll;

    provides org.aiolos.api.fdmon.FdMonitorFactory with org.aiolos.fdmon.poll.PollFdMonitorFactory;
}
