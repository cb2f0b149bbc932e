package org.aiolos.api;

/**
 * Marks "inside device code" while a guarded bottom half runs (QEMU
 * {@code MemReentrancyGuard}). Aiolos only sets and restores it; code that must refuse
 * re-entrant I/O checks {@link #isEngaged()}. Used from the home thread only.
 */
public final class ReentrancyGuard {
    private boolean engaged;

    /** Whether guarded code is running. */
    public boolean isEngaged() {
        return engaged;
    }

    /** Sets the flag; returns its previous value so a caller can restore it. */
    public boolean engage(boolean value) {
        boolean old = engaged;
        engaged = value;
        return old;
    }
}
