/** The epoll(7) fd monitor: what a poll context upgrades to at 64 fds. */
module org.aiolos.fdmon.epoll {
    requires org.aiolos.api;
    requires org.aiolos.linux;
    requires static org.osgi.annotation.bundle;
    requires static org.osgi.annotation.versioning;
    requires static org.osgi.service.component.annotations;

    exports org.aiolos.fdmon.epoll;

    provides org.aiolos.api.fdmon.FdMonitorFactory with org.aiolos.fdmon.epoll.EpollFdMonitorFactory;
}
