package org.aiolos.nbd.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Payload bytes that the requests of all an export's connections may hold together
 * ({@link Export#PAYLOAD_BUDGET}), taken before a request's payload is read and given back
 * when its reply has been sent. Requests that find no room wait in a queue and are served
 * in the order they came, as by a fair semaphore: a release hands its bytes to the head of
 * the queue, and to the ones after it while they fit; a large request at the head is
 * served before the small ones behind it, and a request that finds anyone queued queues
 * behind them even if it would fit.
 *
 * <p>Why: a release used to wake every waiting receiver to try again, each in its own
 * IOThread, and whichever ran first took the room. The order of arrival was lost on every
 * release, so a receiver behind other stalled clients could lose the room the stall rule
 * freed for it to one that came later, and wait a second stall period; a large request lost
 * every race to a stream of small ones that fit in what was left.
 *
 * <p>A request that finds no one queued and room in the budget takes it under the monitor
 * and allocates nothing. One that finds the export with nothing in flight always fits, so
 * the largest request always goes through.
 *
 * @param <O> what owns a share: the connection
 */
final class PayloadBudget<O> {
    /**
     * One connection's part in the budget: what it holds, and the wait of its receiver (at
     * most one at a time). Made once per connection; guarded by the budget's monitor.
     */
    static final class Share<O> {
        private final O owner;
        /** Tells the receiver its request was granted; any thread, called outside the monitor. */
        private final Runnable wake;
        private long held;
        /** The bytes the receiver queued for; 0 when it does not wait. */
        private long wanted;
        /** The queued bytes were taken for the receiver, which has not claimed them yet. */
        private boolean granted;

        Share(O owner, Runnable wake) {
            this.owner = owner;
            this.wake = wake;
        }

        O owner() {
            return owner;
        }
    }

    private final long limit;
    private long inFlight;
    /** The receivers waiting, first come first; each share at most once. */
    private final ArrayDeque<Share<O>> queue = new ArrayDeque<>();
    /** The shares holding bytes now. */
    private final List<Share<O>> holders = new ArrayList<>();

    PayloadBudget(long limit) {
        this.limit = limit;
    }

    /**
     * Takes {@code bytes} for {@code share} if no one waits and they fit; otherwise queues
     * the share, whose wake runs once they have been taken for it ({@link #claim}).
     *
     * @return true if taken now
     */
    synchronized boolean takeOrQueue(Share<O> share, long bytes) {
        if (queue.isEmpty() && fits(bytes)) {
            take(share, bytes);
            return true;
        }
        share.wanted = bytes;
        share.granted = false;
        queue.addLast(share);
        return false;
    }

    /** Whether the queued request of {@code share} was granted; if so it holds the bytes from now on. */
    synchronized boolean claim(Share<O> share) {
        if (!share.granted) {
            return false;
        }
        share.granted = false;
        share.wanted = 0;
        return true;
    }

    /**
     * The receiver of {@code share} gives up its wait (its connection is ending): it leaves
     * the queue, or gives back what was granted to it and not claimed, and those behind it
     * may now be served.
     */
    void leaveQueue(Share<O> share) {
        List<Share<O>> served;
        synchronized (this) {
            if (share.granted) {
                share.granted = false;
                giveBack(share, share.wanted);
            } else {
                queue.remove(share);
            }
            share.wanted = 0;
            served = serveQueue();
        }
        wake(served);
    }

    /** {@code share} gives back {@code bytes}; the head of the queue gets them if it fits. */
    void release(Share<O> share, long bytes) {
        List<Share<O>> served;
        synchronized (this) {
            giveBack(share, bytes);
            served = serveQueue();
        }
        wake(served);
    }

    /** How many receivers wait for room now. */
    synchronized int waiting() {
        return queue.size();
    }

    /** How many receivers other than that of {@code share} wait for room now. */
    synchronized int waitingOtherThan(Share<O> share) {
        return queue.size() - (share.wanted > 0 && !share.granted ? 1 : 0);
    }

    /** The owners of the shares holding bytes now. */
    synchronized List<O> holders() {
        List<O> owners = new ArrayList<>(holders.size());
        for (Share<O> s : holders) {
            owners.add(s.owner);
        }
        return owners;
    }

    /** Bytes held now, over all shares. */
    synchronized long inFlight() {
        return inFlight;
    }

    private boolean fits(long bytes) {
        return inFlight == 0 || inFlight + bytes <= limit;
    }

    private void take(Share<O> share, long bytes) {
        if (share.held == 0) {
            holders.add(share);
        }
        share.held += bytes;
        inFlight += bytes;
    }

    private void giveBack(Share<O> share, long bytes) {
        share.held -= bytes;
        inFlight -= bytes;
        if (share.held == 0) {
            holders.remove(share);
        }
    }

    /** Takes the bytes of the queue's head, and of the ones after it, while they fit. Under the monitor. */
    private List<Share<O>> serveQueue() {
        List<Share<O>> served = null;
        for (Share<O> head = queue.peekFirst(); head != null && fits(head.wanted); head = queue.peekFirst()) {
            queue.removeFirst();
            take(head, head.wanted);
            head.granted = true;
            if (served == null) {
                served = new ArrayList<>();
            }
            served.add(head);
        }
        return served;
    }

    /** Outside the monitor: each receiver is woken in its own IOThread. */
    private static <O> void wake(List<Share<O>> served) {
        if (served != null) {
            for (Share<O> s : served) {
                s.wake.run();
            }
        }
    }
}
