package org.aiolos.api;

/**
 * One descriptor an external loop polls for a context (glib {@code GPollFD}): the loop
 * reads {@link #fd()} and {@link #events()} and stores what it saw with
 * {@link #setRevents(int)}.
 */
public final class PollFd {
    private final int fd;
    private final int events;
    private volatile int revents;

    public PollFd(int fd, int events) {
        if (fd < 0) {
            throw new IllegalArgumentException("fd must be >= 0, got " + fd);
        }
        this.fd = fd;
        this.events = events;
    }

    public int fd() {
        return fd;
    }

    /** The {@link FdEvents} bits to watch. */
    public int events() {
        return events;
    }

    /** What the external poll reported; 0 when nothing. */
    public int revents() {
        return revents;
    }

    public void setRevents(int revents) {
        this.revents = revents;
    }

    @Override
    public String toString() {
        return "PollFd[fd=" + fd + ", events=" + FdEvents.toString(events) + ", revents="
                + FdEvents.toString(revents) + "]";
    }
}
