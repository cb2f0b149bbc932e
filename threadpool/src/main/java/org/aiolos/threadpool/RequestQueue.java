package org.aiolos.threadpool;

/**
 * The FIFO of requests waiting for a worker (QEMU {@code request_list}), linked through
 * the requests themselves so that cancelling one is O(1). Guarded by the pool lock.
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
