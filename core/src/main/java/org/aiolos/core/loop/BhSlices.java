package org.aiolos.core.loop;

/**
 * The chain of BH slices owned by the active (possibly nested) BH dispatches of one
 * context (QEMU {@code bh_slice_list}). Each dispatch detaches the whole pending list as
 * its slice and appends it; every dispatch, nested or not, works on the first slice, so a
 * nested poll finishes its parent's BHs before its own. Home thread only; slices are
 * pooled so a dispatch allocates nothing.
 */
final class BhSlices {
    private BottomHalfImpl[] heads = new BottomHalfImpl[4];
    private int first;
    private int count;

    void append(BottomHalfImpl list) {
        if (count == heads.length) {
            BottomHalfImpl[] grown = new BottomHalfImpl[heads.length * 2];
            for (int i = 0; i < count; i++) {
                grown[i] = heads[(first + i) % heads.length];
            }
            heads = grown;
            first = 0;
        }
        heads[(first + count) % heads.length] = list;
        count++;
    }

    /**
     * Pops the next BH from the first non-empty slice, dropping empty slices; null when
     * every slice is empty.
     */
    BottomHalfImpl pop() {
        while (count > 0) {
            BottomHalfImpl bh = heads[first];
            if (bh == null) {
                first = (first + 1) % heads.length;
                count--;
                continue;
            }
            // Read the link before the flags are cleared: afterwards a concurrent schedule
            // may re-link the BH and overwrite it.
            heads[first] = bh.next;
            bh.next = null;
            return bh;
        }
        first = 0;
        return null;
    }

    boolean isEmpty() {
        return count == 0;
    }

    /** Number of active slices. */
    int count() {
        return count;
    }

    /** The first BH of the i-th active slice (for timeouts and checks); null if empty. */
    BottomHalfImpl head(int i) {
        return heads[(first + i) % heads.length];
    }
}
