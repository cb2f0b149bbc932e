package org.aiolos.api;

/**
 * A thread that owns one context and runs its loop with blocking polls (QEMU
 * {@code IOThread}). Its context is the thread's current context.
 */
public interface IOThread extends AutoCloseable {

    String name();

    /** The context whose loop this thread runs. */
    AioContext context();

    /** Starts the thread; returns once its loop runs. Idempotent. */
    void start();

    /**
     * Stops the loop after the current iteration (a bottom half clears the running flag)
     * and joins the thread. Idempotent.
     */
    void stop();

    /** Whether the thread's loop runs. */
    boolean isRunning();

    /** The Java thread, or null before {@link #start()}. */
    Thread thread();

    /** Stops the thread and closes its context. */
    @Override
    void close();
}
