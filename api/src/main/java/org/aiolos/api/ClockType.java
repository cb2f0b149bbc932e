package org.aiolos.api;

/** The four clocks timers run on (QEMU {@code QEMUClockType}), in the order timers run. */
public enum ClockType {
    /** Monotonic time; runs even while the virtual machine is stopped. */
    REALTIME,
    /** Virtual time: runs only while enabled, and can be advanced by hand. Starts disabled. */
    VIRTUAL,
    /** Wall-clock time; follows changes of the host's time. */
    HOST,
    /** Equals {@link #VIRTUAL} (QEMU without icount). */
    VIRTUAL_RT
}
