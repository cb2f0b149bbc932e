package org.aiolos.api;

/**
 * A thread that owns one context and runs its loop with blocking polls (QEMU
 * {@code IOThread}). Its context is the thread's current context, and belongs to it:
 * {@link AioContext#close()} on it is refused, {@link #close()} closes it.
 */
public interface IOThread extends AutoCloseable {

    String name();

    /** The context whose loop this thread runs. */
    AioContext context();

    /**
     * Starts the thread; returns once its loop runs. Idempotent while it runs. An IOThread
     * runs once, as QEMU's does: a stopped one is not started again (create another for the
     * same work).
     *
     * @throws IllegalStateException once stopped or closed, saying which
     */
    void start();

    /**
     * Stops the loop after the current iteration (a bottom half clears the running flag)
     * and joins the thread. Idempotent. Not from the IOThread itself, which cannot join
     * itself (QEMU's {@code iothread_stop} would deadlock there).
     *
     * @throws IllegalStateException when called in the IOThread
     */
    void stop();

    /** Whether the thread's loop runs. */
    boolean isRunning();

    /** The Java thread, or null before {@link #start()}. */
    Thread thread();

    /**
     * Stops the thread and closes its context, even when a bottom half is still scheduled,
     * a timer armed or a coroutine scheduled there: no thread would run them again, and an
     * open context would hold its descriptors for good. A running IOThread closes the
     * context itself after its last iteration, so the completions of requests still in
     * flight run in the IOThread, as every completion does; one that submits again is
     * refused because the context is closing. Not from the IOThread itself.
     *
     * @throws IllegalStateException once closed, naming what was left (it never runs)
     */
    @Override
    void close();
}
