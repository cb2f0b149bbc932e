package org.aiolos.threadpool;

/**
 * The FIFO of requests waiting for a worker (QEMU {@code request_list}), linked through
 * the requests themselves so that cancelling one is O(1). Guarded by the pool lock.
 *
 * <p>A request leaves QUEUED in exactly two ways, both here and both under the pool lock:
 * a worker {@linkplain #claim() claims} the head, or the home thread
 * {@linkplain #cancelIfQueued cancels} it. The lock makes them mutually exclusive, so
 * exactly one wins (checked by {@code CancelVsClaimStress} in the jcstress module).
 */
final class RequestQueue {
    private Request<?> head;
    private Request<?> tail;
    private int size;

    boolean isEmpty() {
        return head == null;
    }

    int size() {
        return size;
    }

    void add(Request<?> r) {
        r.queueNext = null;
        r.queuePrev = tail;
        if (tail == null) {
            head = r;
        } else {
            tail.queueNext = r;
        }
        tail = r;
        size++;
    }

    Request<?> poll() {
        Request<?> r = head;
        if (r != null) {
            remove(r);
        }
        return r;
    }

    /** A worker takes the oldest request and marks it running; null when empty. */
    Request<?> claim() {
        Request<?> r = poll();
        if (r != null) {
            r.activate();
        }
        return r;
    }

    /**
     * Completes {@code r} as cancelled if no worker claimed it yet (QEMU
     * {@code thread_pool_cancel} on a request still in the list).
     *
     * @return false when it is running or done: it then completes with its real outcome
     */
    boolean cancelIfQueued(Request<?> r, String why) {
        if (r.state() != Request.QUEUED) {
            return false;
        }
        remove(r);
        r.cancelLocked(why);
        return true;
    }

    void remove(Request<?> r) {
        if (r.queuePrev == null) {
            head = r.queueNext;
        } else {
            r.queuePrev.queueNext = r.queueNext;
        }
        if (r.queueNext == null) {
            tail = r.queuePrev;
        } else {
            r.queueNext.queuePrev = r.queuePrev;
        }
        r.queuePrev = null;
        r.queueNext = null;
        size--;
    }
}
