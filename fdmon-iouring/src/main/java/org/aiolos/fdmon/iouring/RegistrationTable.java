package org.aiolos.fdmon.iouring;

import java.util.Arrays;

/**
 * Finds the registration a completion's user data names, without allocating (the hot path
 * runs this once per CQE). Registration ids are {@code slot << 32 | generation}; a context
 * reuses a slot as soon as a watch retires, while the kernel may still hold the retired
 * watch's poll, so each slot keeps a short chain. Home thread only.
 */
final class RegistrationTable {
    private PollRegistration[] slots = new PollRegistration[64];
    private int size;

    void put(PollRegistration r) {
        int slot = slotOf(r.id);
        if (slot >= slots.length) {
            slots = Arrays.copyOf(slots, Math.max(slot + 1, slots.length * 2));
        }
        r.nextInSlot = slots[slot];
        slots[slot] = r;
        size++;
    }

    PollRegistration get(long id) {
        int slot = slotOf(id);
        if (slot < 0 || slot >= slots.length) {
            return null;
        }
        for (PollRegistration r = slots[slot]; r != null; r = r.nextInSlot) {
            if (r.id == id) {
                return r;
            }
        }
        return null;
    }

    void remove(PollRegistration r) {
        int slot = slotOf(r.id);
        PollRegistration prev = null;
        for (PollRegistration c = slots[slot]; c != null; prev = c, c = c.nextInSlot) {
            if (c == r) {
                if (prev == null) {
                    slots[slot] = c.nextInSlot;
                } else {
                    prev.nextInSlot = c.nextInSlot;
                }
                c.nextInSlot = null;
                size--;
                return;
            }
        }
    }

    int size() {
        return size;
    }

    void clear() {
        Arrays.fill(slots, null);
        size = 0;
    }

    private static int slotOf(long id) {
        return (int) (id >>> 32);
    }
}
