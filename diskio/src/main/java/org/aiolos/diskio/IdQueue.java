package org.aiolos.diskio;

/**
 * A first-in, first-out queue of request ids with a fixed capacity (an engine's pool
 * size, so it never overflows): the requests prepared but not yet handed to the kernel.
 * An array ring, so queuing allocates nothing. Home thread only.
 */
public final class IdQueue {
    private final int[] ids;
    private int head;
    private int size;

    public IdQueue(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("id queue capacity must be > 0, got " + capacity);
        }
        ids = new int[capacity];
    }

    public void add(int id) {
        if (size == ids.length) {
            throw new IllegalStateException("id queue full (" + ids.length + ")");
        }
        ids[(head + size++) % ids.length] = id;
    }

    /** The {@code k}-th id from the head. */
    public int peek(int k) {
        if (k < 0 || k >= size) {
            throw new IndexOutOfBoundsException("queue position " + k + " outside [0, " + size + ")");
        }
        return ids[(head + k) % ids.length];
    }

    /** Removes and returns the head. */
    public int poll() {
        int id = peek(0);
        drop(1);
        return id;
    }

    /** Removes the first {@code n}. */
    public void drop(int n) {
        if (n < 0 || n > size) {
            throw new IllegalArgumentException("cannot drop " + n + " of " + size);
        }
        head = (head + n) % ids.length;
        size -= n;
    }

    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }
}
