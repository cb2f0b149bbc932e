package org.aiolos.bench;

import org.aiolos.api.FdEvents;
import org.aiolos.linux.EventFd;
import org.aiolos.linux.PollSet;

/**
 * The way back of every peer benchmark: the loop's callback calls {@link #set()} (one
 * eventfd write) and the benchmark thread blocks in {@code ppoll} in {@link #await()},
 * the same for Aiolos and Netty, so that the reply path costs both sides the same and
 * both threads sleep as in the C eventfd ping-pong.
 */
final class Reply implements AutoCloseable {
    private final EventFd efd = EventFd.open(false);
    private final PollSet waitSet = new PollSet();

    Reply() {
        waitSet.set(0, efd.fd(), FdEvents.IN);
    }

    /** From the loop thread: wakes the benchmark thread. */
    void set() {
        efd.set();
    }

    /** From the benchmark thread: sleeps until {@link #set()} was called, and consumes it. */
    boolean await() {
        while (waitSet.ppoll(1, -1) <= 0) {
            // EINTR: wait again
        }
        return efd.testAndClear();
    }

    @Override
    public void close() {
        waitSet.close();
        efd.close();
    }
}
