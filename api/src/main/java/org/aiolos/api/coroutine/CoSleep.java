package org.aiolos.api.coroutine;

import org.aiolos.api.ClockType;

/**
 * A sleep that can be cut short (QEMU {@code QemuCoSleep}): one coroutine at a time
 * sleeps on it, and {@link #wake()} ends the sleep early.
 */
public interface CoSleep {

    /**
     * Sleeps the calling coroutine for {@code ns} nanoseconds of {@code clock}, on a timer
     * of the thread's current context (QEMU {@code qemu_co_sleep_ns_wakeable}). While it
     * sleeps it is marked scheduled by {@code "co_sleep_ns"}: entering or scheduling it
     * fails.
     *
     * @throws IllegalStateException outside a coroutine, in a thread without a context,
     *     or if a coroutine already sleeps on it
     */
    void sleepNs(ClockType clock, long ns);

    /**
     * Ends the sleep now (QEMU {@code qemu_co_sleep_wake}); does nothing when no coroutine
     * sleeps. The sleeper resumes in its own context.
     */
    void wake();
}
