package org.aiolos.core;

import java.util.Objects;
import org.aiolos.api.PollParams;
import org.aiolos.core.clock.ClockGroup;

/**
 * How to build a context: its name, polling and pool parameters, fd-monitor choice,
 * clocks and failure handling. Immutable; {@code with...} methods return copies.
 *
 * @param name a name for diagnostics
 * @param pollParams adaptive polling; {@link PollParams#OFF} for a plain context, QEMU's
 *     32768 ns for an IOThread
 * @param aioMaxBatch disk-I/O batch limit, 0 = engine default
 * @param threadPoolMin pool workers kept alive
 * @param threadPoolMax most pool workers
 * @param fdMonitor the monitor to use ({@code poll}, {@code epoll}, {@code io_uring}), or
 *     null for QEMU's policy: io_uring when available, otherwise poll, upgrading to epoll
 *     at 64 fds
 * @param fdMonitors the providers to choose from
 * @param threadPool the thread-pool provider to use, by name, or null for the
 *     highest-ranked one
 * @param threadPools the thread-pool providers to choose from
 * @param diskEngine the disk-I/O engine to use ({@code threads}, {@code native},
 *     {@code io_uring}), or null for the highest-ranked available one (aio-engine)
 * @param diskEngines the disk-I/O engine providers to choose from
 * @param clocks the clocks the context's timers run on
 * @param failureHandler receives exceptions thrown by callbacks
 */
public record ContextOptions(String name, PollParams pollParams, long aioMaxBatch, int threadPoolMin,
                             int threadPoolMax, String fdMonitor, FdMonitorProviders fdMonitors,
                             String threadPool, ThreadPoolProviders threadPools,
                             String diskEngine, DiskIoEngineProviders diskEngines,
                             ClockGroup clocks, CallbackFailureHandler failureHandler) {

    public ContextOptions {
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
        ThreadPoolParams.check(threadPoolMin, threadPoolMax);
        if (fdMonitor != null && fdMonitor.isBlank()) {
            fdMonitor = null;
        }
        if (threadPool != null && threadPool.isBlank()) {
            threadPool = null;
        }
        if (diskEngine != null && diskEngine.isBlank()) {
            diskEngine = null;
        }
    }

    /** A plain context: polling off, QEMU's defaults, the system clocks and providers. */
    public static ContextOptions defaults(String name) {
        return new ContextOptions(name, PollParams.OFF, 0, 0, 64, null, FdMonitorProviders.system(),
                null, ThreadPoolProviders.system(), null,
                DiskIoEngineProviders.system(), ClockGroup.system(), CallbackFailureHandler.logging());
    }

    /** An IOThread's context: as {@link #defaults} but polling up to 32768 ns. */
    public static ContextOptions ioThreadDefaults(String name) {
        return defaults(name).withPollParams(PollParams.IOTHREAD_DEFAULT);
    }

    public ContextOptions withName(String n) {
        return new ContextOptions(n, pollParams, aioMaxBatch, threadPoolMin, threadPoolMax, fdMonitor, fdMonitors,
                threadPool, threadPools, diskEngine, diskEngines, clocks, failureHandler);
    }

    public ContextOptions withPollParams(PollParams p) {
        return new ContextOptions(name, p, aioMaxBatch, threadPoolMin, threadPoolMax, fdMonitor, fdMonitors,
                threadPool, threadPools, diskEngine, diskEngines, clocks, failureHandler);
    }

    public ContextOptions withAioMaxBatch(long maxBatch) {
        return new ContextOptions(name, pollParams, maxBatch, threadPoolMin, threadPoolMax, fdMonitor, fdMonitors,
                threadPool, threadPools, diskEngine, diskEngines, clocks, failureHandler);
    }

    public ContextOptions withThreadPool(int min, int max) {
        return new ContextOptions(name, pollParams, aioMaxBatch, min, max, fdMonitor, fdMonitors, threadPool,
                threadPools, diskEngine, diskEngines, clocks, failureHandler);
    }

    public ContextOptions withFdMonitor(String monitorName) {
        return new ContextOptions(name, pollParams, aioMaxBatch, threadPoolMin, threadPoolMax, monitorName,
                fdMonitors, threadPool, threadPools, diskEngine, diskEngines, clocks, failureHandler);
    }

    public ContextOptions withFdMonitors(FdMonitorProviders providers) {
        return new ContextOptions(name, pollParams, aioMaxBatch, threadPoolMin, threadPoolMax, fdMonitor, providers,
                threadPool, threadPools, diskEngine, diskEngines, clocks, failureHandler);
    }

    /** Names the thread-pool provider to use; null or blank for the highest-ranked one. */
    public ContextOptions withThreadPoolProvider(String providerName) {
        return new ContextOptions(name, pollParams, aioMaxBatch, threadPoolMin, threadPoolMax, fdMonitor, fdMonitors,
                providerName, threadPools, diskEngine, diskEngines, clocks, failureHandler);
    }

    public ContextOptions withThreadPools(ThreadPoolProviders providers) {
        return new ContextOptions(name, pollParams, aioMaxBatch, threadPoolMin, threadPoolMax, fdMonitor, fdMonitors,
                threadPool, providers, diskEngine, diskEngines, clocks, failureHandler);
    }

    /** Names the disk-I/O engine to use; null or blank for the highest-ranked available one. */
    public ContextOptions withDiskEngine(String engineName) {
        return new ContextOptions(name, pollParams, aioMaxBatch, threadPoolMin, threadPoolMax, fdMonitor, fdMonitors,
                threadPool, threadPools, engineName, diskEngines, clocks, failureHandler);
    }

    public ContextOptions withDiskEngines(DiskIoEngineProviders providers) {
        return new ContextOptions(name, pollParams, aioMaxBatch, threadPoolMin, threadPoolMax, fdMonitor, fdMonitors,
                threadPool, threadPools, diskEngine, providers, clocks, failureHandler);
    }

    public ContextOptions withClocks(ClockGroup c) {
        return new ContextOptions(name, pollParams, aioMaxBatch, threadPoolMin, threadPoolMax, fdMonitor, fdMonitors,
                threadPool, threadPools, diskEngine, diskEngines, c, failureHandler);
    }

    public ContextOptions withFailureHandler(CallbackFailureHandler h) {
        return new ContextOptions(name, pollParams, aioMaxBatch, threadPoolMin, threadPoolMax, fdMonitor, fdMonitors,
                threadPool, threadPools, diskEngine, diskEngines, clocks, h);
    }
}
