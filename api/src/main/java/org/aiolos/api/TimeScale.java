package org.aiolos.api;

/** The unit a timer's expiry is given in (QEMU {@code SCALE_NS/US/MS}). */
public enum TimeScale {
    NS(1L), US(1_000L), MS(1_000_000L);

    private final long nanos;

    TimeScale(long nanos) {
        this.nanos = nanos;
    }

    /** Nanoseconds per unit. */
    public long nanos() {
        return nanos;
    }
}
