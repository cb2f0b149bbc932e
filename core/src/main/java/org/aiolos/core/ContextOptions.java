package org.aiolos.core;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.aiolos.api.PollParams;
import org.aiolos.api.threadpool.ThreadPool;
import org.aiolos.core.clock.ClockGroup;

/**
 * How to build a context: its name, polling and pool parameters, backend choices, clocks
 * and failure handling. Immutable; {@code with...} methods return copies, checked as a
 * whole.
 *
 * <ul>
 *   <li>{@code name}: for diagnostics;</li>
 *   <li>{@code pollParams}: adaptive polling; {@link PollParams#OFF} for a plain context,
 *       QEMU's {@value PollParams#IOTHREAD_POLL_MAX_NS} ns for an IOThread;</li>
 *   <li>{@code aioMaxBatch}: disk-I/O batch limit, 0 = engine default;</li>
 *   <li>{@code threadPoolMin}, {@code threadPoolMax}: pool workers kept alive, and at most;</li>
 *   <li>{@code fdMonitor}: the monitor to use ({@code poll}, {@code epoll},
 *       {@code io_uring}), or null for QEMU's policy: io_uring when available, otherwise
 *       poll, upgrading to epoll at 64 fds; chosen from {@code fdMonitors};</li>
 *   <li>{@code threadPool}: the thread-pool provider to use, by name, or null for the
 *       highest-ranked one, from {@code threadPools};</li>
 *   <li>{@code diskEngine}: the disk-I/O engine ({@code threads}, {@code native},
 *       {@code io_uring}), or null for the highest-ranked available one, from
 *       {@code diskEngines};</li>
 *   <li>{@code backendWaitNs}: how long thread-pool and disk-I/O requests made while no
 *       provider of their kind is available wait for one before failing
 *       ({@value #DEFAULT_BACKEND_WAIT_MS} ms by default: a bundle update or refresh);</li>
 *   <li>{@code clocks}: the clocks the context's timers run on;</li>
 *   <li>{@code failureHandler}: receives exceptions thrown by callbacks.</li>
 * </ul>
 */
public final class ContextOptions {
    /** The default {@code backend-wait-ms}. */
    public static final long DEFAULT_BACKEND_WAIT_MS = 30_000;

    private String name;
    private PollParams pollParams;
    private long aioMaxBatch;
    private int threadPoolMin;
    private int threadPoolMax;
    private String fdMonitor;
    private FdMonitorProviders fdMonitors;
    private String threadPool;
    private ThreadPoolProviders threadPools;
    private String diskEngine;
    private DiskIoEngineProviders diskEngines;
    private long backendWaitNs;
    private ClockGroup clocks;
    private CallbackFailureHandler failureHandler;

    private ContextOptions() {
    }

    /** A copy with {@code change} applied, checked. */
    private ContextOptions with(Consumer<ContextOptions> change) {
        ContextOptions o = new ContextOptions();
        o.name = name;
        o.pollParams = pollParams;
        o.aioMaxBatch = aioMaxBatch;
        o.threadPoolMin = threadPoolMin;
        o.threadPoolMax = threadPoolMax;
        o.fdMonitor = fdMonitor;
        o.fdMonitors = fdMonitors;
        o.threadPool = threadPool;
        o.threadPools = threadPools;
        o.diskEngine = diskEngine;
        o.diskEngines = diskEngines;
        o.backendWaitNs = backendWaitNs;
        o.clocks = clocks;
        o.failureHandler = failureHandler;
        change.accept(o);
        return o.checked();
    }

    private ContextOptions checked() {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(pollParams, "pollParams");
        Objects.requireNonNull(fdMonitors, "fdMonitors");
        Objects.requireNonNull(threadPools, "threadPools");
        Objects.requireNonNull(diskEngines, "diskEngines");
        Objects.requireNonNull(clocks, "clocks");
        Objects.requireNonNull(failureHandler, "failureHandler");
        if (aioMaxBatch < 0) {
            throw new IllegalArgumentException("aio-max-batch value must be in range [0, " + Long.MAX_VALUE
                    + "], got " + aioMaxBatch);
        }
        if (backendWaitNs < 0) {
            throw new IllegalArgumentException("backend-wait-ms must be >= 0, got " + backendWaitNs + " ns");
        }
        ThreadPool.checkParams(threadPoolMin, threadPoolMax);
        fdMonitor = blankToNull(fdMonitor);
        threadPool = blankToNull(threadPool);
        diskEngine = blankToNull(diskEngine);
        return this;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    /** A plain context: polling off, QEMU's defaults, the system clocks and providers. */
    public static ContextOptions defaults(String name) {
        ContextOptions o = new ContextOptions();
        o.name = name;
        o.pollParams = PollParams.OFF;
        o.threadPoolMax = ThreadPool.DEFAULT_MAX_THREADS;
        o.fdMonitors = FdMonitorProviders.system();
        o.threadPools = ThreadPoolProviders.system();
        o.diskEngines = DiskIoEngineProviders.system();
        o.backendWaitNs = TimeUnit.MILLISECONDS.toNanos(DEFAULT_BACKEND_WAIT_MS);
        o.clocks = ClockGroup.system();
        o.failureHandler = CallbackFailureHandler.logging();
        return o.checked();
    }

    /** An IOThread's context: as {@link #defaults} but polling up to {@value PollParams#IOTHREAD_POLL_MAX_NS} ns. */
    public static ContextOptions ioThreadDefaults(String name) {
        return defaults(name).withPollParams(PollParams.IOTHREAD_DEFAULT);
    }

    public String name() {
        return name;
    }

    public PollParams pollParams() {
        return pollParams;
    }

    public long aioMaxBatch() {
        return aioMaxBatch;
    }

    public int threadPoolMin() {
        return threadPoolMin;
    }

    public int threadPoolMax() {
        return threadPoolMax;
    }

    public String fdMonitor() {
        return fdMonitor;
    }

    public FdMonitorProviders fdMonitors() {
        return fdMonitors;
    }

    public String threadPool() {
        return threadPool;
    }

    public ThreadPoolProviders threadPools() {
        return threadPools;
    }

    public String diskEngine() {
        return diskEngine;
    }

    public DiskIoEngineProviders diskEngines() {
        return diskEngines;
    }

    public long backendWaitNs() {
        return backendWaitNs;
    }

    public ClockGroup clocks() {
        return clocks;
    }

    public CallbackFailureHandler failureHandler() {
        return failureHandler;
    }

    public ContextOptions withName(String n) {
        return with(o -> o.name = n);
    }

    public ContextOptions withPollParams(PollParams p) {
        return with(o -> o.pollParams = p);
    }

    public ContextOptions withAioMaxBatch(long maxBatch) {
        return with(o -> o.aioMaxBatch = maxBatch);
    }

    public ContextOptions withThreadPool(int min, int max) {
        return with(o -> {
            o.threadPoolMin = min;
            o.threadPoolMax = max;
        });
    }

    public ContextOptions withFdMonitor(String monitorName) {
        return with(o -> o.fdMonitor = monitorName);
    }

    public ContextOptions withFdMonitors(FdMonitorProviders providers) {
        return with(o -> o.fdMonitors = providers);
    }

    /** Names the thread-pool provider to use; null or blank for the highest-ranked one. */
    public ContextOptions withThreadPoolProvider(String providerName) {
        return with(o -> o.threadPool = providerName);
    }

    public ContextOptions withThreadPools(ThreadPoolProviders providers) {
        return with(o -> o.threadPools = providers);
    }

    /** Names the disk-I/O engine to use; null or blank for the highest-ranked available one. */
    public ContextOptions withDiskEngine(String engineName) {
        return with(o -> o.diskEngine = engineName);
    }

    public ContextOptions withDiskEngines(DiskIoEngineProviders providers) {
        return with(o -> o.diskEngines = providers);
    }

    /** How long requests wait for a provider of their kind before failing. */
    public ContextOptions withBackendWait(long amount, TimeUnit unit) {
        return with(o -> o.backendWaitNs = unit.toNanos(amount));
    }

    public ContextOptions withClocks(ClockGroup c) {
        return with(o -> o.clocks = c);
    }

    public ContextOptions withFailureHandler(CallbackFailureHandler h) {
        return with(o -> o.failureHandler = h);
    }

    @Override
    public String toString() {
        return "ContextOptions[name=" + name + ", poll=" + pollParams + ", aioMaxBatch=" + aioMaxBatch
                + ", threadPool=" + threadPoolMin + ".." + threadPoolMax + ", fdMonitor=" + fdMonitor
                + ", threadPoolProvider=" + threadPool + ", diskEngine=" + diskEngine + ", backendWaitNs="
                + backendWaitNs + "]";
    }
}
