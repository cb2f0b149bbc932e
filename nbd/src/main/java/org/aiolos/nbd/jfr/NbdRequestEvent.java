package org.aiolos.nbd.jfr;

import jdk.jfr.Event;
import org.aiolos.nbd.internal.Proto;

/**
 * {@code org.aiolos.nbd.Request}: one NBD request that took longer than the
 * {@code threshold} setting (20 ms unless a recording says otherwise, as for
 * {@code jdk.FileRead}; {@code 0 ms} records every request). The duration runs from the
 * request (with a write's payload) having been read off the socket until its reply has
 * been written: the server's share of the latency, disk I/O and queueing behind the
 * connection's other replies included.
 *
 * <p>Cost while no recording wants it: {@link #start()} reads the type's JFR configuration
 * and returns null, and {@link #finish} returns at once; nothing is allocated.
 */
public final class NbdRequestEvent {
    private static final Event PROBE = NbdEventTypes.REQUEST.newEvent();

    private NbdRequestEvent() {
    }

    /** @return a started event when a recording wants requests, else null */
    public static Event start() {
        if (!PROBE.isEnabled()) {
            return null;
        }
        Event e = NbdEventTypes.REQUEST.newEvent();
        e.begin();
        return e;
    }

    /**
     * Ends {@code e} (a {@link #start()} result, possibly null) and commits it if the
     * request crossed the threshold.
     *
     * @param type the NBD command number
     */
    public static void finish(Event e, String export, String client, int type, long offset, long length, int error) {
        if (e == null) {
            return;
        }
        e.end();
        if (e.shouldCommit()) {
            e.set(NbdEventTypes.EXPORT, export);
            e.set(NbdEventTypes.CLIENT, client);
            e.set(NbdEventTypes.COMMAND, Proto.commandName(type));
            e.set(NbdEventTypes.OFFSET, offset);
            e.set(NbdEventTypes.LENGTH, length);
            e.set(NbdEventTypes.ERROR, error);
            e.commit();
        }
    }
}
