package org.aiolos.api;

/**
 * A wake-up channel with one pollable file descriptor (QEMU {@code EventNotifier}):
 * an {@code eventfd}, or a non-blocking pipe where eventfd is missing.
 *
 * <p>{@link #set()} may be called from any thread; the descriptor becomes readable until
 * {@link #testAndClear()} drains it. Register it in a context with
 * {@link AioContext#setEventNotifier}.
 */
public interface EventNotifier extends AutoCloseable {

    /** The descriptor to watch for readability. */
    int fd();

    /** Makes the descriptor readable. Never blocks; a saturated counter counts as set. */
    void set();

    /**
     * Drains the descriptor.
     *
     * @return true if it was set
     */
    boolean testAndClear();

    /** Closes the descriptor(s). Idempotent. */
    @Override
    void close();
}
