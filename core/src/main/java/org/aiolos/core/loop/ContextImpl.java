package org.aiolos.core.loop;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.ClockType;
import org.aiolos.api.Clocks;
import org.aiolos.api.EventNotifier;
import org.aiolos.api.ExternalLoopSource;
import org.aiolos.api.FdEvents;
import org.aiolos.api.PollParams;
import org.aiolos.api.ReentrancyGuard;
import org.aiolos.api.TimeScale;
import org.aiolos.api.diskio.DiskIoEngine;
import org.aiolos.api.fdmon.FdMonitor;
import org.aiolos.api.fdmon.FdMonitorHost;
import org.aiolos.api.fdmon.FdWatch;
import org.aiolos.api.threadpool.ThreadPool;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.BackendStatus;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.ContextStats;
import org.aiolos.core.backend.BackendSlot;
import org.aiolos.core.backend.ContextBackends;
import org.aiolos.core.backend.EngineSlot;
import org.aiolos.core.backend.PoolSlot;
import org.aiolos.core.backend.WorkSlot;
import org.aiolos.core.clock.ClockGroup;
import org.aiolos.core.coroutine.CoScheduler;
import org.aiolos.core.coroutine.CoroutineHost;
import org.aiolos.core.jfr.SlowIterationProbe;
import org.aiolos.linux.EventFd;
import org.aiolos.linux.Fds;

/**
 * The AioContext: QEMU's {@code util/async.c} and {@code util/aio-posix.c} behaviour,
 * step for step (see the spec sections cited on each method).
 *
 * <p>Threads: fields marked "home" are touched only by the home thread; the notify
 * protocol ({@link NotifyProtocol}) and the BH list ({@link BhList}) are the cross-thread
 * surface, with the memory orderings named where they are accessed (and checked by the
 * jcstress module).
 */
public final class ContextImpl implements AiolosContext, FdMonitorHost, CoroutineHost {
    static final long POLL_IDLE_INTERVAL_NS = 7_000_000_000L;
    static final long IDLE_BH_TIMEOUT_NS = 10_000_000L;
    static final long FIRST_POLL_NS = 4_000L;
    static final long DEGRADED_WAIT_NS = 1_000_000L;

    private static final System.Logger LOG = System.getLogger("org.aiolos.core");

    private final String name;
    private final ClockGroup clocks;
    final CallbackRunner runner;
    final HandlerRegistry registry = new HandlerRegistry();
    final LoopStats stats = new LoopStats();
    /** Times outermost iterations for the JFR event org.aiolos.SlowLoopIteration; home thread. */
    private final SlowIterationProbe slowIterations;

    // ---- notify protocol (spec §1.3)
    private final NotifyProtocol notify = new NotifyProtocol();
    private final EventFd notifier;
    private final HandlerNode notifierNode;

    // ---- bottom halves (spec §2)
    private final BhList bhList = new BhList();
    /** home */
    private final BhSlices slices = new BhSlices();

    // ---- timers (spec §4), one list per clock type, run in ClockType order
    private final TimerList[] timerLists = new TimerList[ClockType.values().length];

    // ---- backends: the one safe-point flag and the slots of each kind
    private final ContextBackends backends;

    // ---- fd monitoring and adaptive polling (spec §1.5–1.7)
    private final MonitorSlot monitorSlot;
    /** Written under registry.lock by the home thread (swap); read by anyone. */
    private volatile FdMonitor monitor;
    private volatile long pollMaxNs;
    private volatile long pollGrow;
    private volatile long pollShrink;
    private volatile long aioMaxBatch;
    /** A notifier write failed: waits are capped at DEGRADED_WAIT_NS until one succeeds. */
    private volatile boolean notifierDegraded;
    /** Set by setPollParams from a foreign thread; the home thread resets poll times. */
    private volatile boolean pollTimesReset;
    private volatile int threadPoolMin;
    private volatile int threadPoolMax;
    /** home: between io_poll_begin and io_poll_end. */
    private boolean pollStarted;
    /** home: handlers taking part in busy polling. */
    private HandlerNode pollHead;

    // ---- threads and nesting
    private volatile Thread homeThread;
    /**
     * The nesting depth of poll/dispatch (low 32 bits) and how many outermost polls have
     * ended (high 32 bits). Written by the home thread only, read by any. One volatile word,
     * so a foreign thread that removes a handler can wait for the iteration that may be
     * running its callback to end, without the loop paying a second fenced store.
     */
    private volatile long loopState;
    private ReadyQueue[] frames = new ReadyQueue[4];
    private volatile boolean closed;
    private final Consumer<HandlerNode> unlinkRetired = this::unlinkRetired;
    private final ExternalSource externalSource = new ExternalSource();
    /** home: lets an interrupt of the home thread end a blocking wait. */
    private final InterruptWake interruptWake = new InterruptWake(this::wakeUp);
    /** Coroutines scheduled here (spec §5.3); owned by the coroutine package. */
    private final CoScheduler coroutines;
    /** The disk-I/O engine slot (spec §7): opened on first use, closed with the context. */
    private final EngineSlot diskIo;
    /** The thread-pool view and the pools behind it (spec §6); opened lazily. */
    private final PoolSlot threadPool;

    public ContextImpl(ContextOptions options) {
        Objects.requireNonNull(options, "options");
        this.name = options.name();
        this.clocks = options.clocks();
        this.runner = new CallbackRunner(this, options.failureHandler());
        this.slowIterations = new SlowIterationProbe(name);
        PollParams p = options.pollParams();
        this.pollMaxNs = p.maxNs();
        this.pollGrow = p.grow();
        this.pollShrink = p.shrink();
        this.aioMaxBatch = options.aioMaxBatch();
        this.threadPoolMin = options.threadPoolMin();
        this.threadPoolMax = options.threadPoolMax();
        for (ClockType type : ClockType.values()) {
            TimerList list = new TimerList(type, clocks, this::wakeUp);
            timerLists[type.ordinal()] = list;
        }
        this.notifier = EventFd.open(false);
        this.backends = new ContextBackends(this, options.backendWaitNs(), runner::report, () -> homeThread);
        boolean ok = false;
        MonitorSlot slot = null;
        try {
            slot = new MonitorSlot(backends, this, options.fdMonitor(), options.fdMonitors());
            this.monitorSlot = slot;
            this.monitor = slot.openInitial();
            // The notifier's poll callback reads `notified`, so busy polling sees wakeUp
            // without a syscall (spec §1.2 step 6). Like every registration it ends with a
            // wakeUp: a new context starts with notified == true.
            this.notifierNode = register(notifier.fd(), this::drainNotifier, null, this::isNotified,
                    ContextImpl::noop, true);
            for (TimerList list : timerLists) {
                clocks.attach(list.clockType, list);
            }
            ok = true;
        } finally {
            if (!ok) {
                if (slot != null) {
                    slot.closeBackends();
                    slot.dispose();
                }
                notifier.close();
            }
        }
        this.coroutines = new CoScheduler(this);
        this.diskIo = new EngineSlot(backends, toString(), options.diskEngine(), options.diskEngines(), null);
        this.threadPool = new PoolSlot(backends, options.threadPool(), options.threadPools());
        backends.add(monitorSlot);
        backends.add(diskIo);
        backends.add(threadPool);
    }

    private static void noop() {
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "AioContext '" + name + "'";
    }

    // =====================================================================================
    // notify protocol (spec §1.3)

    @Override
    public void wakeUp() {
        if (notify.signal()) {
            signalNotifier();
        }
    }

    /**
     * The eventfd write. EventFd counts the calls in flight and closes only after the last
     * one, so a wakeUp racing close() never writes to a recycled fd number.
     */
    private void signalNotifier() {
        try {
            notifier.set();
            stats.notifierWrites.increment();
            if (notifierDegraded) {
                notifierDegraded = false;
            }
        } catch (RuntimeException e) {
            // The work is already queued, so the caller must not see a failure. The loop
            // may sleep through this one wake-up (QEMU would lose it silently); from now
            // on until a write succeeds it never waits longer than 1 ms.
            if (!notifierDegraded) {
                notifierDegraded = true;
                LOG.log(System.Logger.Level.WARNING, "AioContext ''" + name + "'': waking the loop failed ("
                        + e.getMessage() + "); it now waits at most 1 ms at a time until a wake-up succeeds", e);
            }
        }
    }

    private void acceptNotify() {
        notify.accept();
    }

    private boolean isNotified() {
        return notify.isNotified();
    }

    /** The notifier's read handler: the eventfd is drained lazily, by a dispatched handler. */
    private void drainNotifier() {
        notifier.testAndClear();
    }

    // =====================================================================================
    // the loop (spec §1.5)

    @Override
    public boolean poll(boolean blocking) {
        enterHome("poll");
        int d = depth();
        ReadyQueue ready = frame(d);
        enterDepth(d);
        boolean completed = false;
        try {
            if (d == 0) {
                if (backends.needsAttention()) {
                    backends.atSafePoint();
                }
                if (pollTimesReset) {
                    applyPollTimeReset();
                }
            }
            boolean progress = pollOnce(ready, blocking, d);
            completed = true;
            return progress;
        } finally {
            leaveDepth(d);
            if (!completed) {
                ready.clear();
            }
        }
    }

    private boolean pollOnce(ReadyQueue ready, boolean blocking, int d) {
        FdMonitor mon = monitor;
        LoopStats st = stats;
        st.iterations++;
        long maxNs = pollMaxNs;
        long start = maxNs != 0 ? System.nanoTime() : 0;
        ready.timeout = blocking ? computeTimeout() : 0;
        boolean progress = tryPollMode(mon, ready);
        long timeout = ready.timeout;
        boolean useNotifyMe = timeout != 0;
        if (useNotifyMe && notify.enterBlocking()) {
            timeout = 0; // a notify is pending: do not block
        }
        if (notifierDegraded && Long.compareUnsigned(timeout, DEGRADED_WAIT_NS) > 0) {
            timeout = DEGRADED_WAIT_NS;
        }
        if (timeout != 0 || mon.needWait()) {
            if (timeout != 0 && pollSetStarted(ready, false)) {
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
        }
        if (useNotifyMe) {
            notify.leaveBlocking();
        }
        acceptNotify();
        long blockNs = maxNs != 0 ? System.nanoTime() - start : 0;

        slowIterations.begin(d, st.bhsRun, st.fdsDispatched, st.timersRun);
        progress |= mon.dispatch();
        progress |= bhPoll();
        slowIterations.bottomHalvesDone(d);
        progress |= dispatchReady(ready, blockNs);
        slowIterations.fdHandlersDone(d);
        if (d == 0) {
            freeDeletedHandlers();
        }
        progress |= runTimers();
        slowIterations.end(d, st.bhsRun, st.fdsDispatched, st.timersRun);
        return progress;
    }

    private int depth() {
        return (int) loopState;
    }

    /** Home thread, entering nesting level {@code d + 1}. */
    private void enterDepth(int d) {
        loopState = (loopState & 0xFFFF_FFFF_0000_0000L) | (d + 1); // volatile store, as the depth always was
    }

    /** Home thread, back at level {@code d}; leaving the outermost level counts one iteration. */
    private void leaveDepth(int d) {
        long s = loopState;
        loopState = d == 0 ? ((s >>> 32) + 1) << 32 : (s & 0xFFFF_FFFF_0000_0000L) | d;
    }

    /**
     * A foreign thread retired a handler: returns once none of its callbacks can be running
     * or start. The retirement (a volatile store of {@code deleted}) comes before the read
     * of {@link #loopState} here, and the home thread stores loopState before it reads
     * {@code deleted} in its next dispatch (all volatile, so one total order): either the
     * loop was outside every poll, or the iteration that may have passed the check ends
     * and any later one sees the handler deleted. A thread running another context's
     * callbacks does not wait (two loops removing each other's handlers would deadlock);
     * nor does a thread that is not a loop's once this context closes.
     */
    private void awaitCallbacksRetired() {
        long s = loopState;
        if ((int) s == 0 || runsAnotherLoop()) {
            return;
        }
        // Woken only now, after the read: a wake-up sent before it may have been accepted by
        // an earlier iteration, and this one could then block with nothing left to wake it.
        // This one is seen by the iteration read above (before it blocks, or by its wait).
        wakeUp();
        long iteration = s >>> 32;
        for (int spins = 0; ; spins++) {
            long now = loopState;
            if ((int) now == 0 || (now >>> 32) != iteration || closed) {
                return;
            }
            if (spins < 128) {
                Thread.onSpinWait();
            } else {
                java.util.concurrent.locks.LockSupport.parkNanos(20_000);
            }
        }
    }

    private static boolean runsAnotherLoop() {
        return AioContext.current() instanceof ContextImpl c && c.inHomeThreadFast() && c.depth() > 0;
    }

    private ReadyQueue frame(int d) {
        if (d >= frames.length) {
            frames = java.util.Arrays.copyOf(frames, frames.length * 2);
        }
        ReadyQueue q = frames[d];
        if (q == null) {
            q = new ReadyQueue(registry);
            frames[d] = q;
        }
        return q;
    }

    private void enterHome(String op) {
        if (closed) {
            throw closedException(op);
        }
        Thread me = Thread.currentThread();
        Thread home = homeThread;
        if (home == me) {
            return;
        }
        if (home != null && home.isAlive()) {
            throw new IllegalStateException(op + " on AioContext '" + name + "' must run in its home thread '"
                    + home.getName() + "', not in '" + me.getName() + "'");
        }
        bindHomeThread(me);
    }

    /** Makes {@code thread} the home thread and, if it has none, binds it to this context. */
    public synchronized void bindHomeThread(Thread thread) {
        Thread home = homeThread;
        if (home != null && home != thread && home.isAlive()) {
            throw new IllegalStateException("AioContext '" + name + "' already has home thread '" + home.getName() + "'");
        }
        homeThread = thread;
        if (thread == Thread.currentThread()) {
            AioContext current = AioContext.current();
            if (current == null || (current instanceof ContextImpl c && c.closed)) {
                AioContext.setCurrent(null);
                AioContext.setCurrent(this);
            }
        }
    }

    @Override
    public boolean inHomeThread() {
        return AioContext.current() == this || homeThread == Thread.currentThread();
    }

    @Override
    public long computeTimeout() {
        long bhTimeout = -1;
        for (BottomHalfImpl bh = bhList.peek(); bh != null; bh = bh.next) {
            int f = bh.flags();
            if ((f & (BottomHalfImpl.SCHEDULED | BottomHalfImpl.DELETED)) == BottomHalfImpl.SCHEDULED) {
                if ((f & BottomHalfImpl.IDLE) == 0) {
                    return 0;
                }
                bhTimeout = IDLE_BH_TIMEOUT_NS;
            }
        }
        if (inHomeThreadFast()) {
            for (int i = 0, n = slices.count(); i < n; i++) {
                for (BottomHalfImpl bh = slices.head(i); bh != null; bh = bh.next) {
                    int f = bh.flags();
                    if ((f & (BottomHalfImpl.SCHEDULED | BottomHalfImpl.DELETED)) == BottomHalfImpl.SCHEDULED) {
                        if ((f & BottomHalfImpl.IDLE) == 0) {
                            return 0;
                        }
                        bhTimeout = IDLE_BH_TIMEOUT_NS;
                    }
                }
            }
        }
        long deadline = timerDeadline();
        if (deadline == 0) {
            return 0;
        }
        return soonest(bhTimeout, deadline);
    }

    private boolean inHomeThreadFast() {
        return homeThread == Thread.currentThread();
    }

    /** QEMU {@code qemu_soonest_timeout}: the smaller, with -1 as infinity. */
    static long soonest(long a, long b) {
        return Long.compareUnsigned(a, b) <= 0 ? a : b;
    }

    private long timerDeadline() {
        long deadline = -1;
        for (TimerList list : timerLists) {
            if (list.hasTimers()) {
                deadline = soonest(deadline, list.deadlineNs());
            }
        }
        return deadline;
    }

    private boolean runTimers() {
        boolean progress = false;
        for (TimerList list : timerLists) {
            if (list.hasTimers() && list.run(runner)) {
                progress = true;
                stats.timersRun++;
            }
        }
        return progress;
    }

    // =====================================================================================
    // adaptive polling (spec §1.6)

    private boolean tryPollMode(FdMonitor mon, ReadyQueue ready) {
        if (pollHead == null) {
            return false;
        }
        long maxNs = 0;
        for (HandlerNode n = pollHead; n != null; n = n.pollNext) {
            maxNs = Math.max(maxNs, n.pollNs);
        }
        maxNs = soonest(ready.timeout, maxNs);
        if (maxNs > 0 && !mon.needWait()) {
            pollSetStarted(ready, true);
            return runPollHandlers(mon, ready, maxNs);
        }
        return false;
    }

    private boolean runPollHandlers(FdMonitor mon, ReadyQueue ready, long maxNs) {
        long start = System.nanoTime();
        long elapsed;
        boolean progress;
        do {
            progress = runPollHandlersOnce(ready, start);
            elapsed = System.nanoTime() - start;
            maxNs = soonest(ready.timeout, maxNs);
            if (mon.needWait()) {
                if (mon.supportsUserspacePolling()) {
                    ready.timeout = 0; // stay in polling mode: wait(0) then back to polling
                }
                break;
            }
        } while (elapsed < maxNs);
        if (progress) {
            stats.pollHits++;
        } else {
            stats.pollMisses++;
        }
        if (removeIdlePollHandlers(mon, ready, start + elapsed)) {
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
        for (HandlerNode n = pollHead; n != null; n = n.pollNext) {
            // A retired handler is never called again, so it is not polled either.
            if (!n.deleted && n.poll != null && runner.poll(n.poll, n)) {
                ready.addPollReady(n);
                n.pollIdleTimeout = now + POLL_IDLE_INTERVAL_NS;
                ready.timeout = 0;
                if (!n.isNotifier) {
                    progress = true;
                }
            }
        }
        return progress;
    }

    /** Prunes poll handlers idle for 7 s; only where readiness is visible without a syscall. */
    private boolean removeIdlePollHandlers(FdMonitor mon, ReadyQueue ready, long now) {
        if (!mon.supportsUserspacePolling()) {
            return false; // with poll/epoll, pruning would starve the non-polled fds
        }
        boolean progress = false;
        HandlerNode next;
        for (HandlerNode n = pollHead; n != null; n = next) {
            next = n.pollNext;
            if (n.pollIdleTimeout == 0) {
                n.pollIdleTimeout = now + POLL_IDLE_INTERVAL_NS;
            } else if (now >= n.pollIdleTimeout) {
                n.pollIdleTimeout = 0;
                removeFromPollList(n);
                Runnable end = n.pollEnd;
                if (pollStarted && end != null && !n.deleted) {
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

    private boolean pollSetStarted(ReadyQueue ready, boolean started) {
        if (started == pollStarted) {
            return false;
        }
        pollStarted = started;
        boolean progress = false;
        HandlerNode next;
        for (HandlerNode n = pollHead; n != null; n = next) {
            next = n.pollNext;
            if (n.deleted) {
                continue;
            }
            Runnable hook = started ? n.pollBegin : n.pollEnd;
            if (hook != null) {
                runner.run(hook, n);
            }
            // Leaving polling mode: one last look, so nothing that became ready while we
            // polled waits for the fd monitor (this counts even for the notifier).
            if (!started && n.poll != null && runner.poll(n.poll, n)) {
                ready.addPollReady(n);
                progress = true;
            }
        }
        return progress;
    }

    private void adjustPollingTime(HandlerNode n, long blockNs) {
        long max = pollMaxNs;
        long ns = n.pollNs;
        if (blockNs <= ns) {
            return; // the sweet spot
        }
        if (blockNs > max) {
            long shrink = pollShrink;
            n.pollNs = shrink != 0 ? ns / shrink : 0;
        } else if (ns < max && blockNs < max) {
            long grow = pollGrow != 0 ? pollGrow : 2;
            long grown = ns != 0 ? saturatingMultiply(ns, grow) : FIRST_POLL_NS;
            n.pollNs = Math.min(grown, max);
        }
    }

    private static long saturatingMultiply(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        return (hi == 0 && lo >= 0) ? lo : Long.MAX_VALUE;
    }

    private void addToPollList(HandlerNode n) {
        n.onPollList = true;
        n.pollPrev = null;
        n.pollNext = pollHead;
        if (pollHead != null) {
            pollHead.pollPrev = n;
        }
        pollHead = n;
    }

    private void removeFromPollList(HandlerNode n) {
        if (!n.onPollList) {
            return;
        }
        if (n.pollPrev != null) {
            n.pollPrev.pollNext = n.pollNext;
        } else {
            pollHead = n.pollNext;
        }
        if (n.pollNext != null) {
            n.pollNext.pollPrev = n.pollPrev;
        }
        n.pollPrev = null;
        n.pollNext = null;
        n.onPollList = false;
    }

    // =====================================================================================
    // dispatch (spec §1.7)

    private boolean dispatchReady(ReadyQueue ready, long blockNs) {
        boolean progress = false;
        HandlerNode n;
        while ((n = ready.poll()) != null) {
            progress |= dispatchHandler(n);
            if (pollMaxNs != 0 && n.onPollList) {
                adjustPollingTime(n, blockNs);
            }
        }
        return progress;
    }

    private boolean dispatchHandler(HandlerNode n) {
        int revents = n.revents;
        int rev = revents & n.events;
        n.revents = 0;
        boolean pollReady = n.pollReady;
        n.pollReady = false;

        if ((revents & FdEvents.NVAL) != 0 && !n.deleted) {
            dropClosedFd(n);
            return false;
        }
        if (!n.deleted && !n.onPollList && n.poll != null) {
            Runnable begin = n.pollBegin;
            if (pollStarted && begin != null) {
                runner.run(begin, n);
            }
            addToPollList(n);
        }
        if (!n.deleted && pollReady && rev == 0 && n.onPollReady != null) {
            // Off the poll list while it runs: a nested poll inside must not poll it again.
            removeFromPollList(n);
            runner.run(n.onPollReady, n);
            if (!n.onPollList && !n.deleted) {
                addToPollList(n);
            }
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

    /**
     * poll(2) says the fd is not open: it was closed while registered. Waiting on it again
     * would spin, so the handler is removed and the failure reported.
     */
    private void dropClosedFd(HandlerNode n) {
        setHandler(n.fd, null, null, null, null, false, n);
        runner.report(n, new IllegalStateException("fd " + n.fd + " was closed while its handler was registered in "
                + this + "; the handler was removed"));
    }

    private void freeDeletedHandlers() {
        if (registry.hasRetired()) {
            registry.drainRetired(unlinkRetired);
        }
    }

    private void unlinkRetired(HandlerNode n) {
        removeFromPollList(n);
    }

    // =====================================================================================
    // bottom halves (spec §2)

    @Override
    public BottomHalf newBottomHalf(String bhName, Runnable callback) {
        return newBottomHalf(bhName, callback, null);
    }

    @Override
    public BottomHalf newBottomHalf(String bhName, Runnable callback, ReentrancyGuard guard) {
        checkOpen("newBottomHalf");
        return new BottomHalfImpl(this, bhName, callback, guard, 0);
    }

    @Override
    public void scheduleOneshot(String bhName, Runnable callback) {
        checkOpen("scheduleOneshot");
        BottomHalfImpl bh = new BottomHalfImpl(this, bhName, callback, null, 0);
        enqueue(bh, BottomHalfImpl.SCHEDULED | BottomHalfImpl.ONESHOT);
    }

    /** QEMU {@code aio_bh_enqueue}: lock-free from any thread. */
    void enqueue(BottomHalfImpl bh, int newFlags) {
        if (closed) {
            throw closedException("scheduling " + bh);
        }
        bhList.enqueue(bh, newFlags);
        wakeUp();
    }

    /** QEMU {@code aio_bh_poll}: runs the BHs enqueued before it started (spec §2.4). */
    private boolean bhPoll() {
        slices.append(bhList.takeAll());
        boolean progress = false;
        BottomHalfImpl bh;
        while ((bh = slices.pop()) != null) {
            int old = bh.takeFlags();
            if ((old & (BottomHalfImpl.SCHEDULED | BottomHalfImpl.DELETED)) == BottomHalfImpl.SCHEDULED) {
                if ((old & BottomHalfImpl.IDLE) == 0) {
                    progress = true;
                }
                callBh(bh);
            }
            // DELETED or ONESHOT: it is off every list now and nothing refers to it.
        }
        return progress;
    }

    private void callBh(BottomHalfImpl bh) {
        stats.bhsRun++;
        ReentrancyGuard guard = bh.guard;
        if (guard == null) {
            runner.run(bh.callback, bh);
            return;
        }
        boolean was = guard.engage(true);
        if (was) {
            LOG.log(System.Logger.Level.TRACE, "reentrant aio: {0}", bh);
        }
        try {
            runner.run(bh.callback, bh);
        } finally {
            guard.engage(was);
        }
    }

    /** Whether any enqueued BH, here or in an active slice, is scheduled and not deleted. */
    private boolean anyBhScheduled() {
        for (BottomHalfImpl bh = bhList.peek(); bh != null; bh = bh.next) {
            if ((bh.flags() & (BottomHalfImpl.SCHEDULED | BottomHalfImpl.DELETED)) == BottomHalfImpl.SCHEDULED) {
                return true;
            }
        }
        for (int i = 0, n = slices.count(); i < n; i++) {
            for (BottomHalfImpl bh = slices.head(i); bh != null; bh = bh.next) {
                if ((bh.flags() & (BottomHalfImpl.SCHEDULED | BottomHalfImpl.DELETED)) == BottomHalfImpl.SCHEDULED) {
                    return true;
                }
            }
        }
        return false;
    }

    // =====================================================================================
    // fd handlers (spec §1.4)

    @Override
    public void setFdHandler(int fd, Runnable onReadable, Runnable onWritable, BooleanSupplier poll,
                             Runnable onPollReady) {
        checkOpen("setFdHandler");
        if (fd < 0) {
            throw new IllegalArgumentException("fd must be >= 0, got " + fd);
        }
        boolean deleting = onReadable == null && onWritable == null && (poll == null || onPollReady == null);
        if (!deleting && !Fds.isOpen(fd)) {
            throw new IllegalArgumentException("fd " + fd + " is not open (fcntl F_GETFD failed with EBADF); "
                    + "register a descriptor before closing it");
        }
        setHandler(fd, onReadable, onWritable, poll, onPollReady, false, null);
    }

    @Override
    public void removeFdHandler(int fd) {
        checkOpen("removeFdHandler");
        if (fd < 0) {
            throw new IllegalArgumentException("fd must be >= 0, got " + fd);
        }
        setHandler(fd, null, null, null, null, false, null);
    }

    @Override
    public void setFdPollHooks(int fd, Runnable pollBegin, Runnable pollEnd) {
        checkOpen("setFdPollHooks");
        registry.lock.lock();
        try {
            HandlerNode n = registry.find(fd);
            if (n != null) {
                n.pollBegin = pollBegin;
                n.pollEnd = pollEnd;
            }
        } finally {
            registry.lock.unlock();
        }
    }

    @Override
    public void setEventNotifier(EventNotifier n, Runnable onReadable, BooleanSupplier poll, Runnable onPollReady) {
        Objects.requireNonNull(n, "notifier");
        setFdHandler(n.fd(), onReadable, null, poll, onPollReady);
    }

    @Override
    public void setEventNotifierPoll(EventNotifier n, Runnable pollBegin, Runnable pollEnd) {
        Objects.requireNonNull(n, "notifier");
        setFdPollHooks(n.fd(), pollBegin, pollEnd);
    }

    private HandlerNode register(int fd, Runnable r, Runnable w, BooleanSupplier p, Runnable pr, boolean isNotifier) {
        return setHandler(fd, r, w, p, pr, isNotifier, null);
    }

    /**
     * QEMU {@code aio_set_fd_handler}: always a brand-new node; the old one is retired.
     *
     * @param expected when non-null, act only if it is still the live node of {@code fd}
     */
    private HandlerNode setHandler(int fd, Runnable onReadable, Runnable onWritable, BooleanSupplier poll,
                                   Runnable onPollReady, boolean isNotifier, HandlerNode expected) {
        BooleanSupplier p = onPollReady == null ? null : poll;
        boolean deleting = onReadable == null && onWritable == null && p == null;
        HandlerNode created = null;
        HandlerNode retired = null;
        registry.lock.lock();
        try {
            HandlerNode old = registry.find(fd);
            if (expected != null && old != expected) {
                return null;
            }
            if (old != null && old.isNotifier && !isNotifier) {
                throw new IllegalArgumentException("fd " + fd + " is the context's own notifier");
            }
            if (deleting) {
                if (old == null) {
                    return null; // nothing to delete, and no notify (as in QEMU)
                }
                registry.remove(old);
            } else {
                created = registry.add(old, fd, onReadable, onWritable, p, onPollReady, isNotifier);
            }
            FdMonitor mon = monitor;
            if (mon != null) {
                updateMonitor(mon, old, created);
            }
            if (old != null) {
                registry.retire(old);
                retired = old;
            }
        } finally {
            registry.lock.unlock();
        }
        monitorSlot.handlersChanged();
        wakeUp();
        if (retired != null && !inHomeThread()) {
            awaitCallbacksRetired();
        }
        return created;
    }

    /** Caller holds registry.lock. */
    void updateMonitor(FdMonitor mon, FdWatch old, FdWatch created) {
        try {
            mon.update(old, created);
        } catch (RuntimeException e) {
            monitorSlot.monitorFailed(mon, "update threw " + e);
            return;
        }
        String failure = mon.failure();
        if (failure != null) {
            monitorSlot.monitorFailed(mon, failure);
        }
    }

    // ---- FdMonitorHost

    @Override
    public String contextName() {
        return name;
    }

    @Override
    public boolean pollingDisabled() {
        return registry.pollingDisabled();
    }

    @Override
    public FdWatch watch(long registrationId) {
        return registry.resolve(registrationId);
    }

    // ---- monitor swap, called by MonitorSlot at a safe point in the home thread

    /**
     * Installs {@code next}, registering every live handler in it first; the slot closes
     * the old one right after. Home thread, at a safe point.
     */
    void installMonitor(FdMonitor next) {
        registry.lock.lock();
        try {
            registry.forEachLive(n -> next.update(null, n));
            monitor = next;
        } finally {
            registry.lock.unlock();
        }
        stats.monitorSwaps++;
    }

    // =====================================================================================
    // timers (spec §4)

    @Override
    public AioTimer newTimer(ClockType clock, TimeScale scale, Runnable callback) {
        return newTimer(clock, scale, 0, callback);
    }

    @Override
    public AioTimer newTimer(ClockType clock, TimeScale scale, int attributes, Runnable callback) {
        checkOpen("newTimer");
        Objects.requireNonNull(clock, "clock");
        return new TimerImpl(timerLists[clock.ordinal()], scale, attributes, callback);
    }

    @Override
    public Clocks clocks() {
        return clocks;
    }

    // =====================================================================================
    // parameters (spec §1.6, §1.12)

    @Override
    public void setPollParams(long maxNs, long grow, long shrink) {
        PollParams validated = new PollParams(maxNs, grow, shrink);
        checkOpen("setPollParams");
        pollMaxNs = validated.maxNs();
        pollGrow = validated.grow();
        pollShrink = validated.shrink();
        resetPollTimes();
        wakeUp();
    }

    /**
     * Every handler starts over at poll time 0. pollNs belongs to the home thread, so
     * another thread only raises a flag that the loop honours before its next iteration.
     */
    private void resetPollTimes() {
        if (inHomeThreadFast()) {
            applyPollTimeReset();
        } else {
            pollTimesReset = true;
        }
    }

    private void applyPollTimeReset() {
        pollTimesReset = false;
        for (HandlerNode n : registry.snapshot()) {
            n.pollNs = 0;
        }
    }

    @Override
    public PollParams pollParams() {
        return new PollParams(pollMaxNs, pollGrow, pollShrink);
    }

    @Override
    public void setAioParams(long maxBatch) {
        if (maxBatch < 0) {
            throw new IllegalArgumentException("aio-max-batch value must be in range [0, " + Long.MAX_VALUE
                    + "], got " + maxBatch);
        }
        checkOpen("setAioParams");
        aioMaxBatch = maxBatch;
        wakeUp();
    }

    @Override
    public long aioMaxBatch() {
        return aioMaxBatch;
    }

    @Override
    public DiskIoEngine diskIo() {
        checkOpen("diskIo");
        return diskIo;
    }

    @Override
    public void useDiskEngine(String engineName) {
        checkOpen("useDiskEngine");
        diskIo.configure(engineName);
    }

    @Override
    public void useThreadPool(String providerName) {
        checkOpen("useThreadPool");
        threadPool.configure(providerName);
    }

    @Override
    public DiskIoEngine openDiskIo(String engineName, String owner) {
        checkOpen("openDiskIo");
        Objects.requireNonNull(owner, "owner");
        EngineSlot[] slot = new EngineSlot[1];
        slot[0] = new EngineSlot(backends, owner + " on " + this, engineName, diskIo.providers(),
                () -> backends.remove(slot[0]));
        backends.add(slot[0]);
        return slot[0];
    }

    @Override
    public List<BackendStatus> backends() {
        List<BackendStatus> out = new ArrayList<>();
        for (BackendSlot<?, ?> s : backends.slots()) {
            out.add(s.status());
        }
        return out;
    }

    @Override
    public void setBackendWaitMs(long ms) {
        if (ms < 0 || ms > Long.MAX_VALUE / 1_000_000L) {
            throw new IllegalArgumentException("backend-wait-ms must be in range [0, " + Long.MAX_VALUE / 1_000_000L
                    + "], got " + ms);
        }
        checkOpen("setBackendWaitMs");
        backends.setBackendWaitNs(ms * 1_000_000L);
    }

    @Override
    public long backendWaitMs() {
        return backends.backendWaitNs() / 1_000_000L;
    }

    @Override
    public String diskEngineName() {
        return diskIo.currentName();
    }

    @Override
    public void setThreadPoolParams(long min, long max) {
        ThreadPool.checkParams(min, max);
        checkOpen("setThreadPoolParams");
        threadPoolMin = (int) min;
        threadPoolMax = (int) max;
        threadPool.paramsChanged((int) min, (int) max); // live pools follow, keeping their work
    }

    @Override
    public ThreadPool threadPool() {
        checkOpen("threadPool");
        return threadPool;
    }

    /** The pools open behind {@link #threadPool()}: the current one and retired ones still draining. */
    public int openThreadPools() {
        return threadPool.openPools();
    }

    /** The provider of the current thread pool, or null when none is open. */
    public String threadPoolProvider() {
        return threadPool.servingName();
    }

    @Override
    public int threadPoolMin() {
        return threadPoolMin;
    }

    @Override
    public int threadPoolMax() {
        return threadPoolMax;
    }

    // =====================================================================================
    // integration

    @Override
    public String fdMonitorName() {
        return monitor.name();
    }

    @Override
    public void useFdMonitor(String monitorName) {
        checkOpen("useFdMonitor");
        monitorSlot.configure(monitorName);
    }

    @Override
    public String fdMonitorNote() {
        return monitorSlot.note();
    }

    @Override
    public ContextStats stats() {
        LoopStats s = stats;
        return new ContextStats(s.iterations, s.waits, s.bhsRun, s.fdsDispatched, s.timersRun, s.pollHits,
                s.pollMisses, s.notifierWrites.sum(), s.monitorSwaps, runner.failures, registry.liveCountRacy(),
                monitor.name(), timersPendingRacy(), maxPollNs());
    }

    /** Armed timers on every clock; sizes read without the lists' locks, for monitoring only. */
    private int timersPendingRacy() {
        int n = 0;
        for (TimerList list : timerLists) {
            n += list.size();
        }
        return n;
    }

    /** The longest current poll time among live handlers (read under the registry lock). */
    private long maxPollNs() {
        registry.lock.lock();
        try {
            long[] max = {0};
            registry.forEachLive(n -> max[0] = Math.max(max[0], n.pollNs));
            return max[0];
        } finally {
            registry.lock.unlock();
        }
    }

    /** Handlers that take part in busy polling now (home thread). */
    int pollListSize() {
        int n = 0;
        for (HandlerNode h = pollHead; h != null; h = h.pollNext) {
            n++;
        }
        return n;
    }

    @Override
    public long pollNsOf(int fd) {
        registry.lock.lock();
        try {
            HandlerNode n = registry.find(fd);
            return n == null ? -1 : pollTimesReset ? 0 : n.pollNs;
        } finally {
            registry.lock.unlock();
        }
    }

    @Override
    public ExternalLoopSource externalLoopSource() {
        checkOpen("externalLoopSource");
        return externalSource;
    }

    /** QEMU's GSource callbacks (spec §1.9). */
    private final class ExternalSource implements ExternalLoopSource {
        @Override
        public long prepare() {
            enterHome("prepare");
            notify.openExternalWindow(); // full fence before computing the timeout
            long timeout = computeTimeout();
            ReadyQueue discard = frame(depth());
            pollSetStarted(discard, false);
            discard.clear(); // QEMU discards it too (left open upstream)
            if (depth() == 0 && backends.needsAttention()) {
                backends.atSafePoint(); // no outer poll on this path: an idle prepare is the safe point
            }
            monitor.externalPrepare();
            return timeout;
        }

        @Override
        public List<org.aiolos.api.PollFd> pollFds() {
            return monitor.externalPollFds();
        }

        @Override
        public boolean check() {
            enterHome("check");
            notify.closeExternalWindow();
            acceptNotify();
            return anyBhScheduled() || monitor.externalCheck() || timerDeadline() == 0;
        }

        @Override
        public boolean dispatch() {
            enterHome("dispatch");
            int d = depth();
            ReadyQueue ready = frame(d);
            enterDepth(d);
            boolean completed = false;
            try {
                FdMonitor mon = monitor;
                bhPoll();
                mon.externalDispatch(ready);
                mon.dispatch();
                dispatchReady(ready, 0); // block_ns 0: poll times never adjust here
                if (d == 0) {
                    freeDeletedHandlers();
                }
                completed = true;
            } finally {
                leaveDepth(d);
                if (!completed) {
                    ready.clear();
                }
            }
            runTimers();
            return true;
        }
    }

    // =====================================================================================
    // lifecycle (spec §1.2)

    private void checkOpen(String op) {
        if (closed) {
            throw closedException(op);
        }
    }

    private IllegalStateException closedException(String op) {
        return new IllegalStateException(op + ": AioContext '" + name + "' is closed");
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * The leak check, and the point of no return if it passes. Every timer list stays
     * locked from its check until it is marked closed, so a timer armed from another thread
     * meanwhile is either seen here (close refuses and names it) or refused by its list.
     * Nothing else is locked or called while they are held (a pool arms its retry timer
     * under its own lock, so taking that lock here could deadlock).
     */
    private void closeTimersOrRefuse() {
        List<String> leaks = new ArrayList<>();
        int locked = 0;
        try {
            for (TimerList list : timerLists) {
                list.lockForClose();
                locked++;
            }
            for (BottomHalfImpl bh = bhList.peek(); bh != null; bh = bh.next) {
                if ((bh.flags() & BottomHalfImpl.DELETED) == 0) {
                    leaks.add("bottom half '" + bh.name + "'");
                }
            }
            for (TimerList list : timerLists) {
                for (TimerImpl t : list.pending()) { // reentrant: this thread holds the lock
                    leaks.add(t.toString());
                }
            }
            leaks.addAll(coroutines.scheduledDescriptions());
            if (leaks.isEmpty()) {
                closed = true;
                for (TimerList list : timerLists) {
                    list.markClosedLocked(name);
                }
            }
        } finally {
            for (int i = locked - 1; i >= 0; i--) {
                timerLists[i].unlockForClose();
            }
        }
        if (!leaks.isEmpty()) {
            for (BackendSlot<?, ?> slot : backends.slots()) {
                if (slot instanceof WorkSlot<?, ?, ?> work) {
                    work.closeRefused();
                }
            }
            throw new IllegalStateException("AioContext '" + name + "' still holds " + String.join(", ", leaks)
                    + "; delete bottom halves, cancel timers and let scheduled coroutines run before closing"
                    + " (the context stays open)");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        Thread home = homeThread;
        Thread me = Thread.currentThread();
        if (depth() != 0) {
            throw new IllegalStateException("AioContext '" + name + "' cannot be closed while its loop runs"
                    + (home == me ? " (close called from inside one of its callbacks)" : " in thread '"
                    + (home == null ? "?" : home.getName()) + "'"));
        }
        // Disk engines first (the context's and any an owner opened): the threads engine runs
        // on the pool, and the engines' own bottom halves must be gone before the leak
        // check; their requests in flight complete (callbacks run) before this returns. If
        // the check below refuses, the next disk request simply reopens an engine.
        for (BackendSlot<?, ?> slot : backends.slots()) {
            if (slot instanceof EngineSlot engines) {
                engines.closeBackends();
            }
        }
        // Then pools: their remaining completions run now, in this thread, and may still
        // schedule work that the checks below must see.
        threadPool.closeBackends();
        closeTimersOrRefuse();
        for (BackendSlot<?, ?> slot : backends.slots()) {
            slot.dispose();
        }
        registry.lock.lock();
        try {
            registry.forEachLive(n -> n.deleted = true);
        } finally {
            registry.lock.unlock();
        }
        try {
            monitorSlot.closeBackends();
        } finally {
            notifier.close();
            for (TimerList list : timerLists) {
                clocks.detach(list.clockType, list);
            }
        }
        if (AioContext.current() == this) {
            AioContext.setCurrent(null);
        }
    }

    @Override
    public CoScheduler coroutineScheduler() {
        return coroutines;
    }

    int notifierFd() {
        return notifierNode.fd;
    }
}
