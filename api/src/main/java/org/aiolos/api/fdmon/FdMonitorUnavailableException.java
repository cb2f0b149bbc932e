package org.aiolos.api.fdmon;

/** A monitor could not be opened here; the message says why (with the errno). */
public final class FdMonitorUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public FdMonitorUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    public FdMonitorUnavailableException(String message) {
        super(message);
    }
}
