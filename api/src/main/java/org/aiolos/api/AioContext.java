package org.aiolos.api;

import java.util.List;
import java.util.function.BooleanSupplier;
import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;
import org.aiolos.api.diskio.DiskIoEngine;
import org.aiolos.api.threadpool.ThreadPool;

/**
 * A single-threaded event loop with QEMU's {@code AioContext} semantics: bottom halves,
 * timers on four clocks, file-descriptor handlers with adaptive busy polling, and the
 * notify protocol that wakes a blocked loop from any thread.
 *
 * <p><b>Threads.</b> {@link #poll(boolean)} runs only in the context's home thread (the
 * first thread that polls it, or its {@link IOThread}); nested calls from callbacks are
 * allowed. Everything else (scheduling bottom halves, arming timers, adding or removing
 * handlers, {@link #wakeUp()}) may be called from any thread.
 *
 * <p><b>Closing.</b> {@link #close()} releases every descriptor and thread the context
 * owns. Like QEMU's finalizer it refuses to drop work silently: a bottom half that is
 * still scheduled, or a timer that is still pending, makes it fail with a message naming
 * them, and so does a coroutine still scheduled in it.
 */
public interface AioContext extends AutoCloseable {

    /**
     * The context whose loop runs in the calling thread (QEMU
     * {@code qemu_get_current_aio_context}), or null when the thread has none.
     */
    static AioContext current() {
        return CurrentContext.get();
    }

    /**
     * Binds the calling thread to {@code ctx} (QEMU {@code qemu_set_current_aio_context}).
     * A thread is bound once; binding it again to another context fails.
     *
     * @throws IllegalStateException if the thread is already bound to another context
     */
    static void setCurrent(AioContext ctx) {
        CurrentContext.set(ctx);
    }

    /**
     * The OSGi service property carrying {@link #name()} of a context registered as a
     * service (an IOThread's), so a bundle can target one: {@code (aiolos.name=io1)}.
     */
    String NAME_PROPERTY = "aiolos.name";

    /** A name for diagnostics. */
    String name();

    // ---------------------------------------------------------------- the loop

    /**
     * Runs one iteration of the loop (QEMU {@code aio_poll}): io_uring completions, bottom
     * halves, ready fd handlers, then expired timers.
     *
     * <p>A blocking wait ends when the calling thread is interrupted ({@link
     * Thread#interrupt()}), as a blocking operation on an interruptible channel does: the
     * call returns (false, unless a callback ran) with the interrupt status still set, and
     * a thread whose interrupt status is set does not block at all.
     *
     * @param blocking whether to wait for an event when nothing is ready
     * @return true if a callback made progress; a blocking call woken only by
     *     {@link #wakeUp()} or an interrupt returns false
     * @throws IllegalStateException if called from a thread other than the home thread
     */
    boolean poll(boolean blocking);

    /**
     * Forces the loop to re-examine its state (QEMU {@code aio_notify}): a loop blocked
     * in {@link #poll(boolean)} returns. Callable from any thread; cheap when the loop is
     * not about to block.
     */
    void wakeUp();

    /**
     * The time, in nanoseconds, a blocking poll would wait now (QEMU
     * {@code aio_compute_timeout}): 0 when a bottom half is scheduled, at most 10 ms
     * when only idle bottom halves are, otherwise the nearest timer deadline, or -1 for
     * "forever".
     */
    long computeTimeout();

    /** Whether the calling thread is this context's home thread. */
    boolean inHomeThread();

    // ---------------------------------------------------------------- bottom halves

    /**
     * Creates an unscheduled bottom half (QEMU {@code aio_bh_new_full}).
     *
     * @param name a name for diagnostics, never null
     * @param callback runs in the home thread each time the bottom half is dispatched
     */
    BottomHalf newBottomHalf(String name, Runnable callback);

    /**
     * Creates an unscheduled bottom half whose callback runs with {@code guard} engaged
     * (QEMU {@code aio_bh_new_guarded}).
     */
    BottomHalf newBottomHalf(String name, Runnable callback, ReentrancyGuard guard);

    /**
     * Schedules {@code callback} to run once, as soon as possible, in the home thread
     * (QEMU {@code aio_bh_schedule_oneshot_full}). It cannot be cancelled.
     */
    void scheduleOneshot(String name, Runnable callback);

    // ---------------------------------------------------------------- fd handlers

    /**
     * Registers, replaces or removes the handler of {@code fd} (QEMU
     * {@code aio_set_fd_handler}). All-null callbacks remove it. Replacing or removing a
     * handler retires the old one:
     * <ul>
     *   <li>from the home thread (a callback included, even the old handler's own): it is
     *       never called again once the current callback, if any, returns;</li>
     *   <li>from any other thread: when this returns, none of the old callbacks is running
     *       and none will start. It waits, if need be, for the loop iteration that may be
     *       running one to end (a blocked loop is woken for that). Exception: a thread that
     *       is itself running a callback of another context does not wait, since two loops
     *       removing each other's handlers would deadlock; there the home-thread rule holds
     *       once that iteration ends.</li>
     * </ul>
     *
     * @param onReadable called when {@code fd} is readable, hung up or in error; or null
     * @param onWritable called when {@code fd} is writable or in error; or null
     * @param poll a cheap check for work that busy polling calls instead of the fd
     *     monitor; ignored unless {@code onPollReady} is also given
     * @param onPollReady called when {@code poll} returned true
     * @throws IllegalArgumentException if {@code fd} is negative or not open
     */
    void setFdHandler(int fd, Runnable onReadable, Runnable onWritable, BooleanSupplier poll,
                      Runnable onPollReady);

    /** {@link #setFdHandler(int, Runnable, Runnable, BooleanSupplier, Runnable)} without polling. */
    default void setFdHandler(int fd, Runnable onReadable, Runnable onWritable) {
        setFdHandler(fd, onReadable, onWritable, null, null);
    }

    /**
     * Removes the handler of {@code fd}, with the guarantees of
     * {@link #setFdHandler(int, Runnable, Runnable, BooleanSupplier, Runnable)}; does nothing
     * when there is none. Removed in the home thread, {@code fd} is the caller's alone when
     * this returns: closing it releases its file at once (a listening socket's port can be
     * bound again). Removed from another thread, the file is released once the loop has
     * waited again (an io_uring monitor's poll holds it until then).
     */
    void removeFdHandler(int fd);

    /**
     * Sets the callbacks run when busy polling of {@code fd}'s handler starts and ends
     * (QEMU {@code aio_set_fd_poll}); does nothing when {@code fd} has no handler.
     * As in QEMU, a begin is not always followed by an end: removing the handler while
     * polling skips it.
     */
    void setFdPollHooks(int fd, Runnable pollBegin, Runnable pollEnd);

    /**
     * Registers, replaces or removes (all-null callbacks) the handler of an event
     * notifier (QEMU {@code aio_set_event_notifier}).
     */
    void setEventNotifier(EventNotifier notifier, Runnable onReadable, BooleanSupplier poll,
                          Runnable onPollReady);

    /** Poll begin/end callbacks of a registered notifier (QEMU {@code aio_set_event_notifier_poll}). */
    void setEventNotifierPoll(EventNotifier notifier, Runnable pollBegin, Runnable pollEnd);

    // ---------------------------------------------------------------- timers

    /** Creates a timer on this context (QEMU {@code aio_timer_new}); it starts unarmed. */
    AioTimer newTimer(ClockType clock, TimeScale scale, Runnable callback);

    /**
     * Creates a timer with attributes (QEMU {@code aio_timer_new_with_attrs}), such as
     * {@link AioTimer#ATTR_EXTERNAL}.
     */
    AioTimer newTimer(ClockType clock, TimeScale scale, int attributes, Runnable callback);

    /** The clocks this context's timers run on. */
    Clocks clocks();

    // ---------------------------------------------------------------- coroutines

    /**
     * Runs {@code co} in this context's thread from a bottom half (QEMU
     * {@code aio_co_schedule}); see {@link Coroutines#schedule}.
     *
     * @throws IllegalStateException if {@code co} is already scheduled; the message
     *     names where
     */
    default void coSchedule(Coroutine co) {
        Coroutines.schedule(this, co);
    }

    /**
     * Runs {@code co} in this context (QEMU {@code aio_co_enter}): scheduled from another
     * thread, queued behind the calling coroutine of this context, or entered now; see
     * {@link Coroutines#enter(AioContext, Coroutine)}.
     */
    default void coEnter(Coroutine co) {
        Coroutines.enter(this, co);
    }

    // ---------------------------------------------------------------- parameters

    /**
     * Sets adaptive polling (QEMU {@code aio_context_set_poll_params}) and resets every
     * handler's current poll time.
     *
     * @param maxNs the longest busy poll; 0 turns polling off
     * @param grow the growth factor; 0 means 2
     * @param shrink the shrink divisor; 0 means reset to 0
     * @throws IllegalArgumentException if a value is negative
     */
    void setPollParams(long maxNs, long grow, long shrink);

    /** The current adaptive-polling parameters. */
    PollParams pollParams();

    /**
     * Sets the disk-I/O batch limit (QEMU {@code aio_context_set_aio_params}).
     *
     * @param maxBatch the most requests submitted in one batch; 0 means the engine default
     * @throws IllegalArgumentException if negative
     */
    void setAioParams(long maxBatch);

    /** The disk-I/O batch limit; 0 means the engine default. */
    long aioMaxBatch();

    /**
     * This context's disk-I/O engine (QEMU {@code aio_get_linux_aio} /
     * {@code aio_setup_linux_aio}): opened on first use from the configured or best
     * available engine provider, then kept until the context closes or the provider
     * changes, in which case requests in flight finish on the old engine while new ones go
     * to the new one.
     *
     * <p>The context owns the engine: it ends with {@link #close()}, which runs every
     * outstanding completion before it returns, and {@link #useDiskEngine} swaps it.
     * {@link org.aiolos.api.diskio.DiskIoEngine#close()} on the returned view throws
     * {@link UnsupportedOperationException}.
     *
     * @throws IllegalStateException when no engine can be opened (the message says why)
     */
    org.aiolos.api.diskio.DiskIoEngine diskIo();

    /**
     * Sets the worker-count bounds of this context's thread pool (QEMU
     * {@code aio_context_set_thread_pool_params}).
     *
     * @throws IllegalArgumentException "bad thread-pool-min/thread-pool-max values" if
     *     {@code min > max}, {@code max <= 0}, {@code min < 0} or either exceeds
     *     {@link Integer#MAX_VALUE}
     */
    void setThreadPoolParams(long min, long max);

    /** The minimum number of pool workers kept alive. */
    int threadPoolMin();

    /** The maximum number of pool workers. */
    int threadPoolMax();

    // ---------------------------------------------------------------- thread pool

    /**
     * This context's thread pool (QEMU {@code aio_get_thread_pool}): blocking work runs
     * on worker threads and its completion runs here, in the home thread, through a
     * bottom half. The context opens the pool lazily, at the first submission, from the
     * best thread-pool provider available (or the one its configuration names) and
     * follows provider changes: new submissions go to the new provider's pool while work
     * already submitted completes through the old one, which closes once drained. With no
     * provider, submissions wait for one for {@link #backendWaitMs()} and then fail, each
     * through its completion, saying so; the context keeps working.
     *
     * <p>The context owns the pool: it ends with {@link #close()}, which cancels queued
     * work, waits for running work and runs every outstanding completion before it
     * returns. {@link ThreadPool#close()} on the returned view throws
     * {@link UnsupportedOperationException}.
     *
     * @throws IllegalStateException if the context is closed
     */
    ThreadPool threadPool();

    // ---------------------------------------------------------------- backends

    /** The name of the fd monitor in use ({@code poll}, {@code epoll}, {@code io_uring}). */
    String fdMonitorName();

    /**
     * The fd monitor in use as {@code facet}, when it offers that facet, else null: how a
     * backend reaches a capability of the monitor without core knowing it (the io_uring
     * monitor lends its ring to the io_uring disk engine, QEMU 10.2's {@code aio_add_sqe} in
     * {@code util/aio-posix.c}). Home thread only; the answer holds until the loop's next
     * safe point, where the monitor may be swapped (the old one then finishes what it was
     * lent before it closes).
     *
     * @since 0.3.0
     */
    default <T> T fdMonitorFacet(Class<T> facet) {
        return null;
    }


    /**
     * Asks for a specific fd monitor ({@code poll}, {@code epoll}, {@code io_uring}), or
     * QEMU's policy with null. The loop swaps at its next safe point; no event is lost
     * and nothing is dispatched twice because of the swap.
     */
    void useFdMonitor(String monitorName);

    /**
     * Asks for a specific disk-I/O engine ({@code threads}, {@code native},
     * {@code io_uring}), or the highest-ranked available one with null (the
     * {@code aio-engine} setting). Applied at the loop's next safe point: requests in
     * flight finish on the old engine, new ones go to the new one.
     */
    void useDiskEngine(String engineName);

    /** The disk-I/O engine in use, or null when none has been opened yet. */
    String diskEngineName();

    /**
     * Asks for a specific thread-pool provider, or the highest-ranked one with null.
     * Applied at the loop's next safe point: work in flight finishes on the old pool.
     */
    void useThreadPool(String providerName);

    /**
     * Opens a disk-I/O engine of this context's own for one user (an NBD export naming its
     * {@code engine=}): it follows the engine providers exactly as {@link #diskIo()} does
     * (swapped at a safe point, draining, falling back to the best available engine with a
     * note while {@code engineName} is not available, and back when it is). Close it when
     * done; the context's close closes it too.
     *
     * @param engineName the engine to prefer, or null for the best available
     * @param owner who uses it, for messages and {@link #backends()}
     */
    DiskIoEngine openDiskIo(String engineName, String owner);

    /**
     * Per kind of backend (fd monitor, thread pool, disk-I/O engine, and engines opened
     * with {@link #openDiskIo}): what is configured and what actually serves, with the
     * note that says why they differ.
     */
    List<BackendStatus> backends();

    /**
     * How long thread-pool and disk-I/O requests made while no provider of their kind is
     * available wait for one before they fail ({@code backend-wait-ms}, 30000 by default).
     *
     * @throws IllegalArgumentException if negative
     */
    void setBackendWaitMs(long ms);

    long backendWaitMs();

    /** Why the context is not on the monitor it was asked for or would prefer; null if it is. */
    String fdMonitorNote();

    /** The loop's counters. */
    ContextStats stats();

    /** The current adaptive poll time of {@code fd}'s handler in ns, or -1 without one. */
    long pollNsOf(int fd);

    // ---------------------------------------------------------------- integration

    /**
     * The hooks through which another event loop drives this context instead of
     * {@link #poll(boolean)} (QEMU {@code aio_get_g_source}).
     */
    ExternalLoopSource externalLoopSource();

    /**
     * Closes the context: releases its notifier, fd monitor and registrations.
     *
     * <p>Its thread pools close first, in the calling thread: queued work completes as
     * cancelled ({@link java.util.concurrent.CancellationException}), running work is
     * waited for and completes with its real outcome, and every outstanding completion
     * runs exactly once before the checks below; every worker thread has ended when this
     * returns. Submissions made meanwhile fail. Completions that schedule bottom halves or
     * arm timers make the close refuse as below.
     *
     * <p>An {@link IOThread}'s context belongs to it: only {@link IOThread#close()} closes
     * it, since its loop may be between two iterations at any instant.
     *
     * @throws IllegalStateException naming the bottom halves still scheduled, the
     *     timers still pending or the coroutines still scheduled, or when the context
     *     belongs to an IOThread; the context then stays open and usable
     */
    @Override
    void close();
}
