package org.aiolos.core.loop;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.ClockType;
import org.aiolos.api.Clocks;
import org.aiolos.api.EventNotifier;
import org.aiolos.api.ExternalLoopSource;
import org.aiolos.api.PollParams;
import org.aiolos.api.ReentrancyGuard;
import org.aiolos.api.TimeScale;
import org.aiolos.api.diskio.DiskIoEngine;
import org.aiolos.api.fdmon.FdMonitor;
import org.aiolos.api.threadpool.ThreadPool;
import org.aiolos.core.AiolosContext;
import org.aiolos.api.BackendStatus;
import org.aiolos.core.ContextOptions;
import org.aiolos.api.ContextStats;
import org.aiolos.core.backend.BackendSlot;
import org.aiolos.core.backend.ContextBackends;
import org.aiolos.core.backend.EngineSlot;
import org.aiolos.core.backend.PoolSlot;
import org.aiolos.core.backend.WorkSlot;
import org.aiolos.core.clock.ClockGroup;
import org.aiolos.core.coroutine.CoScheduler;
import org.aiolos.core.coroutine.CoroutineHost;
import org.aiolos.core.jfr.SlowIterationProbe;

/**
 * The AioContext: the pieces of QEMU's {@code util/async.c} and {@code util/aio-posix.c},
 * each a class of its own that owns its state, composed here with the context's API, its
 * home thread and its life cycle:
 *
 * <ul>
 *   <li>{@link ContextNotifier}: {@code aio_notify}, {@code aio_notify_accept};</li>
 *   <li>{@link BottomHalves}: {@code aio_bh_enqueue}, {@code aio_bh_poll};</li>
 *   <li>{@link Handlers}: {@code aio_set_fd_handler} and the fd monitor;</li>
 *   <li>{@link PollMode}: adaptive busy polling;</li>
 *   <li>{@link TimerLists}: the timer lists of each clock;</li>
 *   <li>{@link Loop}: {@code aio_poll} and the dispatch of ready handlers;</li>
 *   <li>{@link ExternalSource}: {@code aio_ctx_prepare/check/dispatch};</li>
 *   <li>{@link ContextBackends}: the fd monitor, thread pool and disk engine slots.</li>
 * </ul>
 *
 * <p>Threads: the notify protocol, the bottom-half queue and handler registration are the
 * cross-thread surface, with their memory orderings named where they are accessed (and
 * checked by the jcstress module); everything else belongs to the home thread.
 */
public final class ContextImpl implements AiolosContext, CoroutineHost {
    private final String name;
    private final ClockGroup clocks;
    final CallbackRunner runner;
    final LoopStats stats = new LoopStats();
    private final LoopState loopState = new LoopState();
    private final ContextNotifier notifier;
    private final BottomHalves bottomHalves;
    private final TimerLists timers;
    private final PollMode pollMode;
    private final Handlers handlers;
    private final ContextBackends backends;
    private final MonitorSlot monitorSlot;
    private final Loop loop;
    private final ExternalSource externalSource;
    private final HandlerNode notifierNode;
    /** Coroutines scheduled here (QEMU {@code aio_co_schedule}); owned by the coroutine package. */
    private final CoScheduler coroutines;
    /** The disk-I/O engine slot: opened on first use, closed with the context. */
    private final EngineSlot diskIo;
    /** The thread-pool view and the pools behind it; opened lazily. */
    private final PoolSlot threadPool;
    private volatile long aioMaxBatch;
    private volatile int threadPoolMin;
    private volatile int threadPoolMax;
    private volatile Thread homeThread;
    private volatile boolean closed;

    public ContextImpl(ContextOptions options) {
        Objects.requireNonNull(options, "options");
        this.name = options.name();
        this.clocks = options.clocks();
        this.runner = new CallbackRunner(this, options.failureHandler());
        this.aioMaxBatch = options.aioMaxBatch();
        this.threadPoolMin = options.threadPoolMin();
        this.threadPoolMax = options.threadPoolMax();
        this.notifier = new ContextNotifier(name, stats);
        this.bottomHalves = new BottomHalves(runner, stats);
        this.timers = new TimerLists(clocks, this::wakeUp);
        this.pollMode = new PollMode(runner, stats, options.pollParams());
        this.handlers = new Handlers(name, stats, this::wakeUp, loopState, this::inHomeThread, this::isClosed,
                ContextImpl::runsAnotherLoop);
        this.backends = new ContextBackends(this, options.backendWaitNs(), runner::report, () -> homeThread);
        this.loop = new Loop(handlers, pollMode, bottomHalves, timers, notifier, backends, runner, stats,
                new SlowIterationProbe(name), loopState);
        this.externalSource = new ExternalSource(loop, handlers, notifier, this::enterHome);
        boolean ok = false;
        MonitorSlot slot = null;
        try {
            slot = new MonitorSlot(backends, handlers, options.fdMonitor(), options.fdMonitors());
            this.monitorSlot = slot;
            handlers.attach(slot, slot.openInitial());
            // The notifier's poll callback reads `notified`, so busy polling sees wakeUp
            // without a system call (QEMU's aio_context_notifier_poll). Like every
            // registration it ends with a wakeUp: a new context starts notified.
            this.notifierNode = handlers.set(notifier.fd(), notifier::drain, null, notifier::isNotified,
                    ContextImpl::noop, true, null);
            timers.attach();
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
        this.diskIo = new EngineSlot(backends, toString(), null, options.diskEngine(), options.diskEngines(), null);
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

    // ---------------------------------------------------------------- the loop and its thread

    @Override
    public void wakeUp() {
        notifier.wakeUp();
    }

    @Override
    public boolean poll(boolean blocking) {
        enterHome("poll");
        return loop.poll(blocking);
    }

    @Override
    public long computeTimeout() {
        return loop.computeTimeout(homeThread == Thread.currentThread());
    }

    @Override
    public ExternalLoopSource externalLoopSource() {
        checkOpen("externalLoopSource");
        return externalSource;
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
        // The thread test first: it needs no coroutine runtime, which may already be gone
        // while components deactivate.
        return homeThread == Thread.currentThread() || AioContext.current() == this;
    }

    /** Whether the calling thread is running callbacks of some context (its own loop). */
    private static boolean runsAnotherLoop() {
        return AioContext.current() instanceof ContextImpl c && c.homeThread == Thread.currentThread()
                && c.loopState.depth() > 0;
    }

    // ---------------------------------------------------------------- bottom halves

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
        enqueue(new BottomHalfImpl(this, bhName, callback, null, 0), BottomHalfImpl.SCHEDULED | BottomHalfImpl.ONESHOT);
    }

    /** QEMU {@code aio_bh_enqueue}: lock-free from any thread. */
    void enqueue(BottomHalfImpl bh, int newFlags) {
        if (closed) {
            throw closedException("scheduling " + bh);
        }
        bottomHalves.enqueue(bh, newFlags);
        wakeUp();
    }

    // ---------------------------------------------------------------- fd handlers

    @Override
    public void setFdHandler(int fd, Runnable onReadable, Runnable onWritable, BooleanSupplier poll,
                             Runnable onPollReady) {
        checkOpen("setFdHandler");
        handlers.setChecked(fd, onReadable, onWritable, poll, onPollReady);
    }

    @Override
    public void removeFdHandler(int fd) {
        checkOpen("removeFdHandler");
        handlers.remove(fd);
    }

    @Override
    public void setFdPollHooks(int fd, Runnable pollBegin, Runnable pollEnd) {
        checkOpen("setFdPollHooks");
        handlers.setPollHooks(fd, pollBegin, pollEnd);
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

    @Override
    public long pollNsOf(int fd) {
        HandlerNode n = handlers.find(fd);
        return n == null ? -1 : pollMode.pollNsOf(n);
    }

    int notifierFd() {
        return notifierNode.fd;
    }

    // ---------------------------------------------------------------- timers

    @Override
    public AioTimer newTimer(ClockType clock, TimeScale scale, Runnable callback) {
        return newTimer(clock, scale, 0, callback);
    }

    @Override
    public AioTimer newTimer(ClockType clock, TimeScale scale, int attributes, Runnable callback) {
        checkOpen("newTimer");
        Objects.requireNonNull(clock, "clock");
        return new TimerImpl(timers.of(clock), scale, attributes, callback);
    }

    @Override
    public Clocks clocks() {
        return clocks;
    }

    // ---------------------------------------------------------------- parameters

    @Override
    public void setPollParams(long maxNs, long grow, long shrink) {
        PollParams validated = new PollParams(maxNs, grow, shrink);
        checkOpen("setPollParams");
        pollMode.setParams(validated, homeThread == Thread.currentThread(), handlers.registry);
        wakeUp();
    }

    @Override
    public PollParams pollParams() {
        return pollMode.params();
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
    public void setThreadPoolParams(long min, long max) {
        ThreadPool.checkParams(min, max);
        checkOpen("setThreadPoolParams");
        threadPoolMin = (int) min;
        threadPoolMax = (int) max;
        threadPool.paramsChanged((int) min, (int) max); // live pools follow, keeping their work
        for (BackendSlot<?, ?> slot : backends.slots()) {
            if (slot instanceof EngineSlot engines) {
                engines.threadPoolParamsChanged((int) min, (int) max); // the threads engine's own workers
            }
        }
    }

    @Override
    public int threadPoolMin() {
        return threadPoolMin;
    }

    @Override
    public int threadPoolMax() {
        return threadPoolMax;
    }

    // ---------------------------------------------------------------- backends

    @Override
    public DiskIoEngine diskIo() {
        checkOpen("diskIo");
        return diskIo;
    }

    @Override
    public ThreadPool threadPool() {
        checkOpen("threadPool");
        return threadPool;
    }

    @Override
    public void useFdMonitor(String monitorName) {
        checkOpen("useFdMonitor");
        monitorSlot.configure(monitorName);
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
    public String fdMonitorName() {
        return handlers.monitor().name();
    }

    @Override
    public <T> T fdMonitorFacet(Class<T> facet) {
        FdMonitor m = handlers.monitor();
        return facet.isInstance(m) ? facet.cast(m) : null;
    }

    @Override
    public String fdMonitorNote() {
        return monitorSlot.note();
    }

    @Override
    public String diskEngineName() {
        return diskIo.currentName();
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
    public DiskIoEngine openDiskIo(String engineName, String owner) {
        checkOpen("openDiskIo");
        Objects.requireNonNull(owner, "owner");
        EngineSlot[] slot = new EngineSlot[1];
        slot[0] = new EngineSlot(backends, owner + " on " + this, owner, engineName, diskIo.providers(),
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

    // ---------------------------------------------------------------- statistics

    @Override
    public ContextStats stats() {
        LoopStats s = stats;
        return new ContextStats(s.iterations, s.waits, s.bhsRun, s.fdsDispatched, s.timersRun, s.pollHits,
                s.pollMisses, s.notifierWrites.sum(), s.monitorSwaps, runner.failures,
                handlers.registry.liveCountRacy(), handlers.monitor().name(), timers.pendingRacy(),
                handlers.maxPollNs(), coroutines.scheduledCount());
    }

    @Override
    public CoScheduler coroutineScheduler() {
        return coroutines;
    }

    // ---------------------------------------------------------------- life cycle

    private void checkOpen(String op) {
        if (closed) {
            throw closedException(op);
        }
    }

    private IllegalStateException closedException(String op) {
        return new IllegalStateException(op + ": AioContext '" + name + "' is closed");
    }

    /** Who alone closes this context ({@link #ownedBy}), or null. */
    private volatile String owner;

    public boolean isClosed() {
        return closed;
    }

    /**
     * QEMU's {@code aio_context_finalize} with its assertions turned into a refusal: a
     * bottom half still scheduled, a timer still armed or a coroutine still scheduled makes
     * the close throw naming them, and the context stays usable (QEMU aborts the process).
     */
    /**
     * Gives the context to an owner that alone closes it (an IOThread, whose loop may be
     * between two iterations at any instant: a close from outside would pull the context
     * from under it). QEMU's IOThread holds the context's reference and drops it only
     * after {@code iothread_stop} has joined the thread ({@code iothread_instance_finalize}
     * in {@code iothread.c}).
     */
    public void ownedBy(String owner) {
        this.owner = owner;
    }

    @Override
    public synchronized void close() {
        String by = owner;
        if (by != null && !closed) {
            throw new IllegalStateException("AioContext '" + name + "' belongs to " + by
                    + ", which closes it: call its close() (the context stays open)");
        }
        List<String> leaks = close(false);
        if (!leaks.isEmpty()) {
            throw new IllegalStateException("AioContext '" + name + "' still holds " + String.join(", ", leaks)
                    + "; delete bottom halves, cancel timers and let scheduled coroutines run before closing"
                    + " (the context stays open)");
        }
    }

    /**
     * Closes even when something is left, and returns what was: for an owner that cannot
     * keep the context (an IOThread whose thread has stopped: nothing would ever run it, and
     * its descriptors would stay open for the life of the process). The leftovers never run;
     * arming a left timer or scheduling a left bottom half afterwards throws, as on any
     * closed context.
     */
    public synchronized List<String> closeAbandoningLeftovers() {
        return close(true);
    }

    private List<String> close(boolean abandonLeftovers) {
        if (closed) {
            return List.of();
        }
        Thread home = homeThread;
        Thread me = Thread.currentThread();
        if (loopState.depth() != 0) {
            throw new IllegalStateException("AioContext '" + name + "' cannot be closed while its loop runs"
                    + (home == me ? " (close called from inside one of its callbacks)" : " in thread '"
                    + (home == null ? "?" : home.getName()) + "'"));
        }
        // Disk engines first (the context's and any an owner opened): the threads engine runs
        // on workers, and the engines' own bottom halves must be gone before the leak check;
        // their requests in flight complete (callbacks run) before this returns. If the check
        // below refuses, the next disk request simply reopens an engine.
        for (BackendSlot<?, ?> slot : backends.slots()) {
            if (slot instanceof EngineSlot engines) {
                engines.closeBackends();
            }
        }
        // Then pools: their remaining completions run now, in this thread, and may still
        // schedule work that the checks below must see.
        threadPool.closeBackends();
        List<String> leaks = new ArrayList<>();
        boolean clean = timers.closeUnlessPending(leaks, bottomHalves::undeleted,
                more -> more.addAll(coroutines.scheduledDescriptions()), () -> closed = true, name,
                abandonLeftovers);
        if (!clean) {
            for (BackendSlot<?, ?> slot : backends.slots()) {
                if (slot instanceof WorkSlot<?, ?, ?> work) {
                    work.closeRefused();
                }
            }
            return leaks;
        }
        for (BackendSlot<?, ?> slot : backends.slots()) {
            slot.dispose();
        }
        handlers.retireAll();
        try {
            monitorSlot.closeBackends();
        } finally {
            notifier.close();
            timers.detach();
        }
        if (AioContext.current() == this) {
            AioContext.setCurrent(null);
        }
        return leaks;
    }
}
