package org.aiolos.api;

/**
 * A timer on one clock of one context (QEMU {@code QEMUTimer}). Arming and cancelling are
 * thread-safe; the callback runs in the home thread. Timers with equal deadlines fire in
 * the order they were armed.
 */
public interface AioTimer {

    /** The timer drives something outside the loop (QEMU {@code QEMU_TIMER_ATTR_EXTERNAL}). */
    int ATTR_EXTERNAL = 1;
    /** Every attribute (QEMU {@code QEMU_TIMER_ATTR_ALL}). */
    int ATTR_ALL = 0xffffffff;

    ClockType clock();

    TimeScale scale();

    int attributes();

    /**
     * Arms (or re-arms) it to expire at {@code expireNs} on its clock (QEMU
     * {@code timer_mod_ns}); a negative time means 0. Re-arming from the callback to a
     * time already passed runs it again in the same pass.
     */
    void modNs(long expireNs);

    /** {@link #modNs} with the time in this timer's scale (QEMU {@code timer_mod}). */
    void mod(long expireTime);

    /** Arms it only if it is not pending or the new time is earlier (QEMU {@code timer_mod_anticipate_ns}). */
    void modAnticipateNs(long expireNs);

    /** {@link #modAnticipateNs} in this timer's scale. */
    void modAnticipate(long expireTime);

    /** Disarms it (QEMU {@code timer_del}); idempotent. */
    void cancel();

    /** Whether it is armed (QEMU {@code timer_pending}). */
    boolean isPending();

    /** The expiry in ns, or -1 when not pending (QEMU {@code timer_expire_time_ns}). */
    long expireTimeNs();

    /**
     * Whether it has expired at {@code currentTime} (in its scale), QEMU
     * {@code timer_expired}. As in QEMU this is true for a timer that is not pending.
     */
    boolean isExpired(long currentTime);
}
