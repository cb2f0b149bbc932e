package org.aiolos.nbd.osgi;

/**
 * What JMX shows of one served export ({@code org.aiolos:type=NbdExport,name=<name>}): its
 * place and its counters, read live from the server on every access, and what an operator
 * can do to it. Registered while the export is served, withdrawn when it stops. Every
 * attribute is described in {@code docs/observability.md}.
 */
public interface NbdExportStatsMBean {
    String getName();

    /** The Config Admin configuration the export comes from. */
    String getConfigurationPid();

    String getFile();

    String getIOThread();

    /** The bound address and port, {@code 127.0.0.1:10809}. */
    String getAddress();

    String getEngine();

    boolean isReadOnly();

    long getSize();

    int getConnections();

    long getRequests();

    long getBytesRead();

    long getBytesWritten();

    long getErrors();

    // ---------------------------------------------------------------- operations

    /**
     * Closes the export for good, as {@code nbd:close} does: deletes its configuration,
     * so it is withdrawn (requests in flight finish and reply first) and does not come
     * back at the next start. Waits up to 5 s for the export to stop.
     *
     * @return what happened
     */
    String close();

    /**
     * Disconnects the export's clients: each connection's requests in flight finish and
     * reply, then it closes; the export keeps serving, so clients may reconnect.
     *
     * @return how many connections were told to go
     */
    int disconnectClients();
}
