package org.aiolos.api;

/**
 * A callback queued to the home thread of its context (QEMU {@code QEMUBH}). Scheduling
 * is lock-free and wait-free from any thread; a bottom half scheduled several times
 * before it runs runs once.
 */
public interface BottomHalf {

    /** Its name, for diagnostics. */
    String name();

    /** The context it runs in. */
    AioContext context();

    /**
     * Runs the callback at the next dispatch (QEMU {@code qemu_bh_schedule}). A bottom half
     * that reschedules itself from its callback runs again in the next iteration, not in
     * the current one.
     *
     * @throws IllegalStateException if it was deleted
     */
    void schedule();

    /**
     * Like {@link #schedule()}, but the run does not count as progress and the loop may
     * sleep up to 10 ms before it (QEMU {@code qemu_bh_schedule_idle}).
     *
     * @throws IllegalStateException if it was deleted
     */
    void scheduleIdle();

    /**
     * Cancels a scheduled run (QEMU {@code qemu_bh_cancel}). It races with a dispatch in
     * the home thread unless called there.
     */
    void cancel();

    /**
     * Cancels it and releases it at the next dispatch (QEMU {@code qemu_bh_delete}).
     * Idempotent; any later schedule fails.
     */
    void delete();

    /** Whether {@link #delete()} was called. */
    boolean isDeleted();
}
