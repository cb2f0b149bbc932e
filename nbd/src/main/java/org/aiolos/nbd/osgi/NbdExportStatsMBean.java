package org.aiolos.nbd.osgi;

/**
 * What JMX shows of one served export ({@code org.aiolos:type=NbdExport,name=<name>}): its
 * place and its counters, read live from the server on every access. Registered while the
 * export is served, withdrawn when it stops.
 */
public interface NbdExportStatsMBean {
    String getName();

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
}
