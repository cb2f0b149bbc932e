package org.aiolos.nbd.internal;

import java.lang.foreign.MemorySegment;

/**
 * The byte stream a connection speaks NBD over: the socket itself ({@link CoSocket}), or
 * a TLS session on it after {@code NBD_OPT_STARTTLS}. Both calls run in a coroutine in the
 * connection's home thread and yield it while the socket is not ready.
 */
interface NbdStream {
    /**
     * Reads exactly {@code len} bytes into {@code seg}. Only the connection's receiver reads.
     *
     * @throws ConnectionClosed at end of stream, on a socket error, or once reading was stopped
     */
    void readFully(MemorySegment seg, long len);

    /**
     * Writes exactly {@code len} bytes of {@code seg}. One writer at a time: replies hold
     * the connection's send lock; the option handshake has the socket to itself.
     *
     * @throws ConnectionClosed on a socket error or once the connection is abandoned
     */
    void writeFully(MemorySegment seg, long len);
}
