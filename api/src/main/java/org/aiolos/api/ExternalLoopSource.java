package org.aiolos.api;

import java.util.List;

/**
 * Lets another event loop drive a context (QEMU's {@code GSource} integration): each
 * iteration of that loop calls {@link #prepare()}, polls the descriptors of
 * {@link #pollFds()} with the returned timeout, stores their {@code revents}, calls
 * {@link #check()}, and when it returns true, {@link #dispatch()}. All four run in the
 * context's home thread. This path never busy-polls.
 *
 * <p>With the epoll and io_uring monitors the context is one descriptor; with poll(2)
 * it is every registered descriptor, as glib sees it.
 */
public interface ExternalLoopSource {

    /**
     * Opens the prepare-to-check window (a {@link AioContext#wakeUp()} from now on writes
     * the notifier) and computes the timeout.
     *
     * @return the timeout in ns: 0 means ready without polling, -1 means no deadline
     */
    long prepare();

    /** The descriptors to poll; valid until the next {@link #prepare()}. */
    List<PollFd> pollFds();

    /**
     * Closes the window and says whether {@link #dispatch()} has work: a scheduled bottom
     * half, a ready descriptor, or an expired timer.
     */
    boolean check();

    /** Runs bottom halves, ready handlers and expired timers; returns true. */
    boolean dispatch();

    /** An ns timeout as the ms an external loop waits: rounded up, capped at {@code Integer.MAX_VALUE}. */
    static int timeoutMillis(long timeoutNs) {
        if (timeoutNs < 0) {
            return -1;
        }
        if (timeoutNs == 0) {
            return 0;
        }
        // Divide first: adding 999,999 before dividing would overflow near Long.MAX_VALUE.
        long ms = timeoutNs / 1_000_000L + (timeoutNs % 1_000_000L != 0 ? 1 : 0);
        return (int) Math.min(ms, Integer.MAX_VALUE);
    }
}
