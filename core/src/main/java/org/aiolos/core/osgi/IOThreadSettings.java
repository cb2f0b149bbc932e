package org.aiolos.core.osgi;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.PollParams;
import org.aiolos.core.ContextOptions;
import org.aiolos.api.threadpool.ThreadPool;

/**
 * One IOThread's validated settings, parsed from configuration properties. Everything is
 * checked before anything is applied, so an update is taken whole or not at all; the
 * first bad field is named in the {@link IllegalArgumentException}'s message.
 */
record IOThreadSettings(String name, long pollMaxNs, long pollGrow, long pollShrink, long aioMaxBatch,
                        int threadPoolMin, int threadPoolMax, String fdmon, String aioEngine,
                        long backendWaitMs) {

    static final Set<String> FD_MONITORS = Set.of("", "poll", "epoll", "io_uring");
    static final Set<String> AIO_ENGINES = Set.of("", "threads", "native", "io_uring");

    /** QEMU's IOThread defaults. */
    static IOThreadSettings defaults(String name) {
        return new IOThreadSettings(name, PollParams.IOTHREAD_DEFAULT.maxNs(), 0, 0, 0, 0, 64, "", "",
                ContextOptions.DEFAULT_BACKEND_WAIT_MS);
    }

    /**
     * @param props configuration properties; values may be numbers or strings (files)
     * @param defaultName the name when the configuration has none
     * @throws IllegalArgumentException naming the first bad field
     */
    static IOThreadSettings parse(Map<String, ?> props, String defaultName) {
        IOThreadSettings d = defaults(defaultName);
        String name = text(props, "name", d.name);
        if (name.isEmpty() || !name.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("name: must be letters, digits, '_', '.' or '-', got '" + name + "'");
        }
        long maxNs = number(props, "poll-max-ns", d.pollMaxNs);
        long grow = number(props, "poll-grow", d.pollGrow);
        long shrink = number(props, "poll-shrink", d.pollShrink);
        long batch = number(props, "aio-max-batch", d.aioMaxBatch);
        long min = number(props, "thread-pool-min", d.threadPoolMin);
        long max = number(props, "thread-pool-max", d.threadPoolMax);
        long waitMs = number(props, "backend-wait-ms", d.backendWaitMs);
        nonNegative("poll-max-ns", maxNs);
        nonNegative("poll-grow", grow);
        nonNegative("poll-shrink", shrink);
        nonNegative("aio-max-batch", batch);
        nonNegative("backend-wait-ms", waitMs);
        if (waitMs > Long.MAX_VALUE / 1_000_000L) {
            throw new IllegalArgumentException("backend-wait-ms: must be at most " + Long.MAX_VALUE / 1_000_000L
                    + ", got " + waitMs);
        }
        try {
            ThreadPool.checkParams(min, max);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("thread-pool-min/thread-pool-max: " + e.getMessage(), e);
        }
        String fdmon = text(props, "fdmon", "");
        if (!FD_MONITORS.contains(fdmon)) {
            throw new IllegalArgumentException("fdmon: must be empty, poll, epoll or io_uring, got '" + fdmon + "'");
        }
        String engine = text(props, "aio-engine", "");
        if (!AIO_ENGINES.contains(engine)) {
            throw new IllegalArgumentException("aio-engine: must be empty, threads, native or io_uring, got '"
                    + engine + "'");
        }
        return new IOThreadSettings(name, maxNs, grow, shrink, batch, (int) min, (int) max, fdmon, engine, waitMs);
    }

    ContextOptions toOptions(BackendRegistry backends) {
        return ContextOptions.ioThreadDefaults(name)
                .withPollParams(new PollParams(pollMaxNs, pollGrow, pollShrink))
                .withAioMaxBatch(aioMaxBatch)
                .withThreadPool(threadPoolMin, threadPoolMax)
                .withFdMonitor(fdmon.isEmpty() ? null : fdmon)
                .withFdMonitors(backends.fdMonitors())
                .withThreadPools(backends.threadPools())
                .withDiskEngine(aioEngine.isEmpty() ? null : aioEngine)
                .withDiskEngines(backends.diskEngines())
                .withBackendWait(backendWaitMs, TimeUnit.MILLISECONDS);
    }

    private static void nonNegative(String field, long v) {
        if (v < 0) {
            throw new IllegalArgumentException(field + ": must be >= 0, got " + v);
        }
    }

    private static String text(Map<String, ?> props, String key, String dflt) {
        Object v = props.get(key);
        return v == null ? dflt : v.toString().trim();
    }

    private static long number(Map<String, ?> props, String key, long dflt) {
        Object v = props.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Number n && !(v instanceof Double) && !(v instanceof Float)) {
            return n.longValue();
        }
        String s = v.toString().trim();
        if (s.isEmpty()) {
            return dflt;
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": not an integer: '" + s + "'", e);
        }
    }
}
