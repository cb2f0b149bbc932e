package org.aiolos.nbd.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;
import org.aiolos.nbd.internal.Proto;

/**
 * One NBD request that took longer than the {@code threshold} setting (20 ms unless a
 * recording says otherwise, as for {@code jdk.FileRead}; {@code 0 ms} records every
 * request). The duration runs from the request (with a write's payload) having been read
 * off the socket until its reply has been written: the server's share of the latency,
 * disk I/O and queueing behind the connection's other replies included.
 *
 * <p>Cost while no recording wants it: {@link #start()} reads the class' JFR configuration
 * and returns null, and {@link #finish} returns at once; nothing is allocated.
 */
@Name("org.aiolos.nbd.Request")
@Label("NBD Request")
@Category({"Aiolos", "NBD"})
@Description("An NBD request whose service took longer than the threshold, with its export and client")
@Threshold("20 ms")
@StackTrace(false)
public final class NbdRequestEvent extends jdk.jfr.Event {
    private static final NbdRequestEvent PROBE = new NbdRequestEvent();

    @Label("Export")
    String export;

    @Label("Client")
    @Description("The client's address and the server's connection number")
    String client;

    @Label("Command")
    String command;

    @Label("Offset")
    long offset;

    @Label("Length")
    @DataAmount(DataAmount.BYTES)
    long length;

    @Label("Error")
    @Description("The NBD error replied (EIO = 5, EINVAL = 22, ENOSPC = 28, ...); 0 for success")
    int error;

    private NbdRequestEvent() {
    }

    /** @return a started event when a recording wants requests, else null */
    public static NbdRequestEvent start() {
        if (!PROBE.isEnabled()) {
            return null;
        }
        NbdRequestEvent e = new NbdRequestEvent();
        e.begin();
        return e;
    }

    /**
     * Ends {@code e} (a {@link #start()} result, possibly null) and commits it if the
     * request crossed the threshold.
     *
     * @param type the NBD command number
     */
    public static void finish(NbdRequestEvent e, String export, String client, int type, long offset, long length,
            int error) {
        if (e == null) {
            return;
        }
        e.end();
        if (e.shouldCommit()) {
            e.export = export;
            e.client = client;
            e.command = Proto.commandName(type);
            e.offset = offset;
            e.length = length;
            e.error = error;
            e.commit();
        }
    }
}
