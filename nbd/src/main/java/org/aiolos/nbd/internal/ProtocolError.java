package org.aiolos.nbd.internal;

/** The client broke the protocol; the connection is closed after logging one line. */
final class ProtocolError extends RuntimeException {
    ProtocolError(String why) {
        super(why, null, false, false);
    }
}
