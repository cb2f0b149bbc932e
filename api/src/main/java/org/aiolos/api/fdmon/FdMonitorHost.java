package org.aiolos.api.fdmon;

/** What a monitor may ask of the context that opened it. */
public interface FdMonitorHost {

    /** The context's name, for messages. */
    String contextName();

    /**
     * Whether some registered handler has no poll callback (QEMU
     * {@code aio_poll_disabled}). Monitors that cannot see readiness from user space return
     * this from {@link FdMonitor#needWait()} so busy polling never starves such handlers.
     */
    boolean pollingDisabled();

    /**
     * The watch with this registration id, or null when the id is stale (its handler
     * was removed and the slot reused since). Monitors keep ids, never raw fds, in kernel
     * user data: fd numbers are reused after close.
     */
    FdWatch watch(long registrationId);

    /** Wakes the context's loop (QEMU {@code aio_notify}); callable from any thread. */
    void wakeUp();
}
