package org.aiolos.api;

/**
 * The clocks of a group of contexts (QEMU's process-wide {@code QEMUClock}s). The
 * virtual clocks can be paused, resumed and advanced by hand, which makes timer tests
 * deterministic.
 */
public interface Clocks {

    /** Now, in ns, on {@code clock} (QEMU {@code qemu_clock_get_ns}). */
    long nowNs(ClockType clock);

    /** Now, in {@code scale} units. */
    default long now(ClockType clock, TimeScale scale) {
        return nowNs(clock) / scale.nanos();
    }

    /** Whether timers on {@code clock} run. Only the virtual clocks can be disabled. */
    boolean isEnabled(ClockType clock);

    /**
     * Enables or disables a clock (QEMU {@code qemu_clock_enable}). Disabling waits until
     * timer callbacks of that clock that are running have returned, so it must not be
     * called from one of them. Enabling wakes every context whose timers use the clock.
     *
     * @throws IllegalArgumentException for REALTIME and HOST, which always run
     */
    void enable(ClockType clock, boolean enabled);

    /**
     * Moves the virtual clocks ({@code VIRTUAL} and {@code VIRTUAL_RT}) forward by
     * {@code deltaNs}, waking contexts whose timers are now due.
     *
     * @throws IllegalArgumentException if {@code deltaNs} is negative
     */
    void advanceVirtual(long deltaNs);
}
