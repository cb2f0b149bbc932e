package org.aiolos.api.fdmon;

/** Where {@link FdMonitor#wait} reports ready watches; one per (possibly nested) poll. */
public interface ReadyList {

    /** Reports {@code watch} ready with the {@link org.aiolos.api.FdEvents} bits seen. */
    void add(FdWatch watch, int revents);
}
