package org.aiolos.api.fdmon;

import java.util.List;
import org.aiolos.api.PollFd;

/**
 * Waits for the descriptors of one context (QEMU {@code FDMonOps}). Readiness is
 * level-triggered: a descriptor that stays ready is reported by every wait.
 *
 * <p>{@link #update} may be called from any thread, serialized by the context's handler
 * lock; everything else runs in the context's home thread.
 */
public interface FdMonitor extends AutoCloseable {

    String name();

    /**
     * Adds ({@code oldWatch} null), removes ({@code newWatch} null) or replaces a watched
     * descriptor. Must not block. A failure the monitor cannot recover from is reported
     * through {@link #failure()}, never thrown.
     *
     * <p>A removal in the home thread leaves nothing of the descriptor in the kernel when
     * this returns, since the caller may close it next and count on its file being released
     * (a listening port free to bind again). A removal from another thread does so by the
     * end of the next {@link #wait}.
     */
    void update(FdWatch oldWatch, FdWatch newWatch);

    /**
     * Waits up to {@code timeoutNs} (-1 forever, 0 just look) and reports ready watches.
     *
     * @return the number of watches reported
     */
    int wait(ReadyList ready, long timeoutNs);

    /**
     * Whether {@link #wait} must be called now even with a zero timeout; stops busy
     * polling early (QEMU {@code need_wait}).
     */
    boolean needWait();

    /**
     * Runs monitor-specific completions at a safe point before bottom halves (QEMU
     * {@code FDMonOps.dispatch}). They run user callbacks: when one throws, the rest of the
     * batch still runs and the first failure is thrown afterwards (later ones suppressed
     * into it), for the context to report like any callback's.
     *
     * @return true if a callback ran
     */
    default boolean dispatch() {
        return false;
    }

    /**
     * Whether readiness shows up without a syscall while the loop busy-polls, so idle
     * poll handlers may be pruned (true only for io_uring).
     */
    default boolean supportsUserspacePolling() {
        return false;
    }

    /**
     * Whether {@code fd} is one of the monitor's own descriptors (an epoll instance, a
     * ring), which no handler may watch: the context refuses such a handler instead of
     * handing the monitor a descriptor it cannot watch.
     */
    default boolean ownsDescriptor(int fd) {
        return false;
    }

    /** External-loop prepare hook (QEMU {@code gsource_prepare}). */
    default void externalPrepare() {
    }

    /** The descriptors an external loop must poll for this monitor. */
    List<PollFd> externalPollFds();

    /** After the external poll: whether a watched handler is ready (QEMU {@code gsource_check}). */
    boolean externalCheck();

    /** Reports the ready watches after an external poll (QEMU {@code gsource_dispatch}). */
    void externalDispatch(ReadyList ready);

    /**
     * Null while the monitor is sound; otherwise why it can no longer be trusted (an
     * {@code epoll_ctl} that failed). The context then moves every watch to another
     * monitor and never picks this kind again.
     */
    default String failure() {
        return null;
    }

    /** Releases every descriptor and byte of native memory the monitor holds. Idempotent. */
    @Override
    void close();
}
