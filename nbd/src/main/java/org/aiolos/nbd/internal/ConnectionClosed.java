package org.aiolos.nbd.internal;

/** The connection is over for the coroutine that sees this; not an error to report. */
final class ConnectionClosed extends RuntimeException {
    ConnectionClosed(String why) {
        super(why, null, false, false);
    }
}
