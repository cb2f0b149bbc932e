package org.aiolos.core.loop;

import java.util.Arrays;
import java.util.function.Consumer;
import org.aiolos.api.FdEvents;
import org.aiolos.api.fdmon.FdMonitor;
import org.aiolos.core.backend.ContextBackends;
import org.aiolos.core.jfr.SlowIterationProbe;

/**
 * One iteration of a context's loop: QEMU's {@code aio_poll} and the dispatch of ready
 * handlers ({@code aio_dispatch_ready_handlers}, {@code aio_dispatch_handler}) in
 * {@code util/aio-posix.c}, with the timeout of {@code aio_compute_timeout} from
 * {@code util/async.c}. Home thread only; the context checks that before calling in.
 *
 * <p>Order inside one iteration, as in QEMU: the monitor's own completions (io_uring),
 * bottom halves, ready fd handlers, then expired timers. The start of an outermost
 * iteration is the safe point where backends are swapped ({@link ContextBackends}).
 */
final class Loop {
    /**
     * A monitor's first waits are not measured for adaptive polling. The first time a JVM
     * runs a wait, dispatch and poll-list path it links FFM downcall stubs, loads and
     * interprets classes: measured 1.5-23 ms on this project's VMs for the first blocking
     * poll/epoll wait (0.35 ms on io_uring), against 10-200 us once warm. QEMU's
     * {@code adjust_polling_time} would read that as "the event came later than poll-max-ns"
     * and shrink the handler's poll time to 0, where the same event on a warm JVM grows it
     * to the first step; a handler whose work then shows only through its poll callback is
     * never polled again. Warming the native paths up when a monitor opens would shorten
     * the first wait but not bound it (class loading, the interpreter, a busy machine), so
     * instead these waits are never taken as evidence to shrink: see
     * {@link PollMode#adjust}. Counted per monitor, since a swap opens new native paths.
     */
    static final int COLD_WAITS = 8;

    private final Handlers handlers;
    private final PollMode pollMode;
    private final BottomHalves bottomHalves;
    private final TimerLists timers;
    private final ContextNotifier notifier;
    private final ContextBackends backends;
    private final CallbackRunner runner;
    private final LoopStats stats;
    private final SlowIterationProbe slowIterations;
    private final LoopState state;
    private final InterruptWake interruptWake;
    private final Consumer<HandlerNode> unlinkRetired;
    /** One ready list per nesting level, reused. */
    private ReadyQueue[] frames = new ReadyQueue[4];
    /** The monitor whose first waits are being counted, and how many are still cold. */
    private FdMonitor coldMonitor;
    private int coldWaitsLeft;

    Loop(Handlers handlers, PollMode pollMode, BottomHalves bottomHalves, TimerLists timers,
         ContextNotifier notifier, ContextBackends backends, CallbackRunner runner, LoopStats stats,
         SlowIterationProbe slowIterations, LoopState state) {
        this.handlers = handlers;
        this.pollMode = pollMode;
        this.bottomHalves = bottomHalves;
        this.timers = timers;
        this.notifier = notifier;
        this.backends = backends;
        this.runner = runner;
        this.stats = stats;
        this.slowIterations = slowIterations;
        this.state = state;
        this.interruptWake = new InterruptWake(notifier::wakeUp);
        this.unlinkRetired = pollMode::unlink;
    }

    /** QEMU {@code aio_poll}. */
    boolean poll(boolean blocking) {
        int d = state.depth();
        ReadyQueue ready = frame(d);
        state.enter(d);
        boolean completed = false;
        try {
            if (d == 0) {
                atSafePoint();
                pollMode.applyRequestedReset(handlers.registry);
            }
            boolean progress = iterate(ready, blocking, d);
            completed = true;
            return progress;
        } finally {
            state.leave(d);
            if (!completed) {
                ready.clear();
            }
        }
    }

    /** Backends change only here: no callback or completion of any of them is running. */
    void atSafePoint() {
        if (backends.needsAttention()) {
            backends.atSafePoint();
        }
    }

    private boolean iterate(ReadyQueue ready, boolean blocking, int d) {
        FdMonitor mon = handlers.monitor();
        LoopStats st = stats;
        st.iterations++;
        long maxNs = pollMode.maxNs();
        long start = maxNs != 0 ? System.nanoTime() : 0;
        ready.timeout = blocking ? computeTimeout(true) : 0;
        boolean progress = pollMode.tryPollMode(mon, ready);
        long timeout = ready.timeout;
        boolean useNotifyMe = timeout != 0;
        boolean cold = false;
        if (useNotifyMe && notifier.enterBlocking()) {
            timeout = 0; // a notify is pending: do not block
        }
        timeout = notifier.capWait(timeout);
        if (timeout != 0 || mon.needWait()) {
            if (timeout != 0 && pollMode.setStarted(ready, false)) {
                timeout = 0;
                progress = true;
            }
            if (timeout != 0) {
                interruptWake.begin(); // Thread.interrupt() ends the wait, as for a channel
                try {
                    mon.wait(ready, timeout);
                } finally {
                    interruptWake.end();
                }
            } else {
                mon.wait(ready, timeout);
            }
            st.waits++;
            if (mon != coldMonitor) {
                coldMonitor = mon;
                coldWaitsLeft = COLD_WAITS;
            }
            if (coldWaitsLeft > 0) {
                coldWaitsLeft--;
                cold = true;
            }
        }
        if (useNotifyMe) {
            notifier.leaveBlocking();
        }
        notifier.accept();
        long blockNs = maxNs == 0 ? 0 : cold ? PollMode.UNMEASURED : System.nanoTime() - start;

        slowIterations.begin(d, st.bhsRun, st.fdsDispatched, st.timersRun);
        progress |= dispatchMonitor(mon);
        progress |= bottomHalves.poll();
        slowIterations.bottomHalvesDone(d);
        progress |= dispatchReady(ready, blockNs);
        slowIterations.fdHandlersDone(d);
        if (d == 0) {
            handlers.freeDeleted(unlinkRetired);
        }
        progress |= timers.run(runner, st);
        slowIterations.end(d, st.bhsRun, st.fdsDispatched, st.timersRun);
        return progress;
    }

    /**
     * The monitor's own completions (io_uring: those of every borrower of its ring). They
     * are user callbacks like any handler's, so what they throw is reported and the loop
     * goes on; a monitor runs its whole batch before rethrowing (see FdMonitor#dispatch).
     * A throw still counts as progress: callbacks ran.
     */
    boolean dispatchMonitor(FdMonitor mon) {
        try {
            return mon.dispatch();
        } catch (Throwable t) {
            runner.report(mon, t);
            return true;
        }
    }

    /**
     * QEMU {@code aio_compute_timeout}: 0 with a scheduled bottom half or an expired timer,
     * up to 10 ms with only idle bottom halves, else until the earliest timer (-1: none).
     *
     * @param inHome whether the caller is the home thread (only it may read the slices)
     */
    long computeTimeout(boolean inHome) {
        long bhTimeout = bottomHalves.timeoutNs(inHome);
        if (bhTimeout == 0) {
            return 0;
        }
        long deadline = timers.deadlineNs();
        return deadline == 0 ? 0 : PollMode.soonest(bhTimeout, deadline);
    }

    ReadyQueue frame(int d) {
        if (d >= frames.length) {
            frames = Arrays.copyOf(frames, frames.length * 2);
        }
        ReadyQueue q = frames[d];
        if (q == null) {
            q = new ReadyQueue(handlers.registry);
            frames[d] = q;
        }
        return q;
    }

    /** QEMU {@code aio_dispatch_ready_handlers}; poll times adjust after each handler. */
    boolean dispatchReady(ReadyQueue ready, long blockNs) {
        boolean progress = false;
        HandlerNode n;
        while ((n = ready.poll()) != null) {
            progress |= dispatch(n);
            pollMode.adjust(n, blockNs);
        }
        return progress;
    }

    /** QEMU {@code aio_dispatch_handler}: re-checks {@code deleted} before every callback. */
    private boolean dispatch(HandlerNode n) {
        int revents = n.revents;
        int rev = revents & n.events;
        n.revents = 0;
        boolean pollReady = n.pollReady;
        n.pollReady = false;

        if ((revents & FdEvents.NVAL) != 0 && !n.deleted) {
            handlers.dropClosedFd(n, runner);
            return false;
        }
        pollMode.dispatched(n);
        if (!n.deleted && pollReady && rev == 0 && n.onPollReady != null) {
            pollMode.runPollReady(n);
            if (!n.isNotifier) {
                stats.fdsDispatched++;
                return true;
            }
            return false;
        }
        boolean progress = false;
        if (!n.deleted && (rev & FdEvents.READ) != 0 && n.onReadable != null) {
            runner.run(n.onReadable, n);
            if (!n.isNotifier) {
                progress = true;
            }
        }
        // Again: the read callback may have removed the handler.
        if (!n.deleted && (rev & FdEvents.WRITE) != 0 && n.onWritable != null) {
            runner.run(n.onWritable, n);
            progress = true;
        }
        if (progress) {
            stats.fdsDispatched++;
        }
        return progress;
    }

    // ---------------------------------------------------------------- the external-loop source's steps

    int depth() {
        return state.depth();
    }

    void enter(int d) {
        state.enter(d);
    }

    void leave(int d) {
        state.leave(d);
    }

    /** Leaves polling mode before an outside loop blocks; QEMU discards what that last look finds. */
    void leavePollingMode(ReadyQueue discard) {
        pollMode.setStarted(discard, false);
        discard.clear(); // QEMU discards it too (left open upstream)
    }

    boolean runBottomHalves() {
        return bottomHalves.poll();
    }

    boolean anyBottomHalfScheduled() {
        return bottomHalves.scan(true) != BottomHalves.NONE;
    }

    boolean timerExpired() {
        return timers.deadlineNs() == 0;
    }

    boolean runTimers() {
        return timers.run(runner, stats);
    }

    void freeDeleted() {
        handlers.freeDeleted(unlinkRetired);
    }
}
