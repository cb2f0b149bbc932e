package org.aiolos.core.loop;

import org.aiolos.api.PollParams;
import org.aiolos.api.fdmon.FdMonitor;

/**
 * A context's adaptive busy polling: QEMU's poll mode in {@code util/aio-posix.c}
 * ({@code try_poll_mode}, {@code run_poll_handlers}, {@code run_poll_handlers_once},
 * {@code remove_idle_poll_handlers}, {@code poll_set_started}, {@code adjust_polling_time})
 * and the list of handlers that take part in it ({@code poll_aio_handlers}).
 *
 * <p>A handler with a poll callback joins the list when it is first dispatched (its fd
 * fired once) and leaves it when retired or, under a monitor that can poll from user space,
 * after 7 s without work. Each handler has its own poll time, grown while its events come
 * within poll-max-ns and shrunk when they do not (QEMU 10.0's per-handler times).
 *
 * <p>The parameters are written by any thread; everything else belongs to the home thread.
 */
final class PollMode {
    static final long IDLE_INTERVAL_NS = 7_000_000_000L;
    static final long FIRST_POLL_NS = 4_000L;

    private final CallbackRunner runner;
    private final LoopStats stats;
    private volatile long maxNs;
    private volatile long grow;
    private volatile long shrink;
    /** Set by {@link #setParams} from a foreign thread; the home thread resets poll times. */
    private volatile boolean resetRequested;
    /** home: between io_poll_begin and io_poll_end. */
    private boolean started;
    /** home: the handlers taking part. */
    private HandlerNode head;

    PollMode(CallbackRunner runner, LoopStats stats, PollParams params) {
        this.runner = runner;
        this.stats = stats;
        this.maxNs = params.maxNs();
        this.grow = params.grow();
        this.shrink = params.shrink();
    }

    // ---------------------------------------------------------------- parameters

    long maxNs() {
        return maxNs;
    }

    PollParams params() {
        return new PollParams(maxNs, grow, shrink);
    }

    /** New parameters (validated); every handler starts over at poll time 0. */
    void setParams(PollParams p, boolean inHome, HandlerRegistry registry) {
        maxNs = p.maxNs();
        grow = p.grow();
        shrink = p.shrink();
        if (inHome) {
            resetTimes(registry);
        } else {
            resetRequested = true; // pollNs belongs to the home thread: it resets them itself
        }
    }

    /** Start of an outermost poll: applies a reset asked for by another thread. */
    void applyRequestedReset(HandlerRegistry registry) {
        if (resetRequested) {
            resetTimes(registry);
        }
    }

    private void resetTimes(HandlerRegistry registry) {
        resetRequested = false;
        for (HandlerNode n : registry.snapshot()) {
            n.pollNs = 0;
        }
    }

    /** A handler's poll time as any thread may report it (0 while a reset is pending). */
    long pollNsOf(HandlerNode n) {
        return resetRequested ? 0 : n.pollNs;
    }

    // ---------------------------------------------------------------- polling

    /**
     * QEMU {@code try_poll_mode}: polls the handlers for up to the longest poll time (or
     * the timeout), unless the monitor must wait first.
     */
    boolean tryPollMode(FdMonitor mon, ReadyQueue ready) {
        if (head == null) {
            return false;
        }
        long max = 0;
        for (HandlerNode n = head; n != null; n = n.pollNext) {
            max = Math.max(max, n.pollNs);
        }
        max = soonest(ready.timeout, max);
        if (max > 0 && !mon.needWait()) {
            setStarted(ready, true);
            return runPollHandlers(mon, ready, max);
        }
        if (max > 0 && mon.supportsUserspacePolling()) {
            // Unlike QEMU's try_poll_mode, which then goes straight to a blocking wait: a
            // monitor that re-arms one-shot polls (io_uring) has the re-arm queued after
            // every fd event, so it always needed a wait when the loop came back, and busy
            // polling never ran once the loop had slept (the cross-thread round trip gained
            // nothing from it on io_uring). This iteration's wait does not block instead: it
            // submits what is queued and reaps, and the next iteration polls.
            ready.timeout = 0;
        }
        return false;
    }

    private boolean runPollHandlers(FdMonitor mon, ReadyQueue ready, long max) {
        long start = System.nanoTime();
        long elapsed;
        boolean progress;
        do {
            progress = runPollHandlersOnce(ready, start);
            elapsed = System.nanoTime() - start;
            max = soonest(ready.timeout, max);
            if (mon.needWait()) {
                if (mon.supportsUserspacePolling()) {
                    ready.timeout = 0; // stay in polling mode: wait(0) then back to polling
                }
                break;
            }
        } while (elapsed < max);
        if (progress) {
            stats.pollHits++;
        } else {
            stats.pollMisses++;
        }
        if (removeIdle(mon, ready, start + elapsed)) {
            ready.timeout = 0;
            progress = true;
        }
        if (ready.timeout != -1) {
            ready.timeout -= Math.min(ready.timeout, elapsed); // keep the absolute deadline
        }
        return progress;
    }

    private boolean runPollHandlersOnce(ReadyQueue ready, long now) {
        boolean progress = false;
        for (HandlerNode n = head; n != null; n = n.pollNext) {
            // A retired handler is never called again, so it is not polled either.
            if (!n.deleted && n.poll != null && runner.poll(n.poll, n)) {
                ready.addPollReady(n);
                n.pollIdleTimeout = now + IDLE_INTERVAL_NS;
                ready.timeout = 0;
                if (!n.isNotifier) {
                    progress = true;
                }
            }
        }
        return progress;
    }

    /** Prunes handlers idle for 7 s; only where readiness is visible without a syscall. */
    private boolean removeIdle(FdMonitor mon, ReadyQueue ready, long now) {
        if (!mon.supportsUserspacePolling()) {
            return false; // with poll/epoll, pruning would starve the non-polled fds
        }
        boolean progress = false;
        HandlerNode next;
        for (HandlerNode n = head; n != null; n = next) {
            next = n.pollNext;
            if (n.pollIdleTimeout == 0) {
                n.pollIdleTimeout = now + IDLE_INTERVAL_NS;
            } else if (now >= n.pollIdleTimeout) {
                n.pollIdleTimeout = 0;
                unlink(n);
                Runnable end = n.pollEnd;
                if (started && end != null && !n.deleted) {
                    runner.run(end, n);
                    if (runner.poll(n.poll, n)) {
                        ready.addPollReady(n);
                        progress = true;
                    }
                }
            }
        }
        return progress;
    }

    /**
     * QEMU {@code poll_set_started}: runs every handler's poll-begin or poll-end hook; when
     * leaving, one last poll of each, so nothing that became ready meanwhile waits for the
     * fd monitor (this counts as progress even for the notifier).
     *
     * @return whether that last look found work
     */
    boolean setStarted(ReadyQueue ready, boolean start) {
        if (start == started) {
            return false;
        }
        started = start;
        boolean progress = false;
        HandlerNode next;
        for (HandlerNode n = head; n != null; n = next) {
            next = n.pollNext;
            if (n.deleted) {
                continue;
            }
            Runnable hook = start ? n.pollBegin : n.pollEnd;
            if (hook != null) {
                runner.run(hook, n);
            }
            if (!start && n.poll != null && runner.poll(n.poll, n)) {
                ready.addPollReady(n);
                progress = true;
            }
        }
        return progress;
    }

    // ---------------------------------------------------------------- the handler list

    /** A handler with a poll callback is dispatched: it joins the list the first time. */
    void dispatched(HandlerNode n) {
        if (!n.deleted && !n.onPollList && n.poll != null) {
            Runnable begin = n.pollBegin;
            if (started && begin != null) {
                runner.run(begin, n);
            }
            link(n);
        }
    }

    /**
     * Runs {@code n}'s poll-ready callback off the list, so a nested poll inside it does
     * not poll it again, then puts it back unless it was retired meanwhile.
     */
    void runPollReady(HandlerNode n) {
        unlink(n);
        runner.run(n.onPollReady, n);
        if (!n.onPollList && !n.deleted) {
            link(n);
        }
    }

    /** QEMU {@code adjust_polling_time}, after {@code n} was dispatched; a no-op with polling off. */
    void adjust(HandlerNode n, long blockNs) {
        long max = maxNs;
        if (max == 0 || !n.onPollList) {
            return;
        }
        long ns = n.pollNs;
        if (blockNs <= ns) {
            return; // the sweet spot
        }
        if (blockNs > max) {
            long s = shrink;
            n.pollNs = s != 0 ? ns / s : 0;
        } else if (ns < max && blockNs < max) {
            long g = grow != 0 ? grow : 2;
            long grown = ns != 0 ? saturatingMultiply(ns, g) : FIRST_POLL_NS;
            n.pollNs = Math.min(grown, max);
        }
    }

    private static long saturatingMultiply(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        return (hi == 0 && lo >= 0) ? lo : Long.MAX_VALUE;
    }

    private void link(HandlerNode n) {
        n.onPollList = true;
        n.pollPrev = null;
        n.pollNext = head;
        if (head != null) {
            head.pollPrev = n;
        }
        head = n;
    }

    /** Takes {@code n} off the list (a retired handler, or one pruned as idle). */
    void unlink(HandlerNode n) {
        if (!n.onPollList) {
            return;
        }
        if (n.pollPrev != null) {
            n.pollPrev.pollNext = n.pollNext;
        } else {
            head = n.pollNext;
        }
        if (n.pollNext != null) {
            n.pollNext.pollPrev = n.pollPrev;
        }
        n.pollPrev = null;
        n.pollNext = null;
        n.onPollList = false;
    }

    /** QEMU {@code qemu_soonest_timeout}: the smaller, with -1 as infinity. */
    static long soonest(long a, long b) {
        return Long.compareUnsigned(a, b) <= 0 ? a : b;
    }
}
