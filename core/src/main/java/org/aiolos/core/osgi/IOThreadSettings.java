package org.aiolos.core.osgi;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.PollParams;
import org.aiolos.core.ContextOptions;
import org.aiolos.api.threadpool.ThreadPool;
import org.aiolos.core.config.ConfigSchema;
import org.aiolos.core.config.ConfigStore;
import org.aiolos.core.config.InvalidConfigurationException;

/**
 * One IOThread's validated settings, parsed from configuration properties. Everything is
 * checked before anything is applied, so an update is taken whole or not at all: first
 * against the Metatype ({@link IOThreadConfig}, as a {@link ConfigSchema}: unknown keys,
 * types, bounds, options, defaults), then the rules that span fields; every error is in
 * the {@link InvalidConfigurationException}, each starting with its field.
 */
record IOThreadSettings(String name, long pollMaxNs, long pollGrow, long pollShrink, long aioMaxBatch,
                        int threadPoolMin, int threadPoolMax, String fdmon, String aioEngine,
                        long backendWaitMs) {

    static final Set<String> FD_MONITORS = Set.of("", "poll", "epoll", "io_uring");
    static final Set<String> AIO_ENGINES = Set.of("", "threads", "native", "io_uring");

    /** The settings as the configuration's keys say them, for the log: {@code poll-max-ns=32768 ...}. */
    String describe() {
        return "poll-max-ns=" + pollMaxNs + " poll-grow=" + pollGrow + " poll-shrink=" + pollShrink
                + " aio-max-batch=" + aioMaxBatch + " thread-pool-min=" + threadPoolMin + " thread-pool-max="
                + threadPoolMax + " fdmon=" + (fdmon.isEmpty() ? "(best available)" : fdmon) + " aio-engine="
                + (aioEngine.isEmpty() ? "(best available)" : aioEngine) + " backend-wait-ms=" + backendWaitMs;
    }

    /** The defaults of the Metatype, named {@code name}. */
    static IOThreadSettings defaults(ConfigSchema schema, String name) {
        return parse(schema, Map.of(), name);
    }

    /**
     * @param schema the IOThread configuration's Metatype
     * @param props configuration properties; values may be numbers or strings (files)
     * @param defaultName the name when the configuration has none
     * @throws InvalidConfigurationException with every error
     */
    static IOThreadSettings parse(ConfigSchema schema, Map<String, ?> props, String defaultName) {
        ConfigSchema.Checked c = schema.check(props);
        List<String> errors = new ArrayList<>(c.errors());
        String name = c.has("name") ? (String) c.get("name") : defaultName;
        String badName = ConfigStore.configurationNameError(name, c.has("name"));
        if (badName != null) {
            errors.add(badName);
        }
        if (c.has("thread-pool-min") && c.has("thread-pool-max")) {
            try {
                ThreadPool.checkParams((Integer) c.get("thread-pool-min"), (Integer) c.get("thread-pool-max"));
            } catch (IllegalArgumentException e) {
                errors.add("thread-pool-min/thread-pool-max: " + e.getMessage());
            }
        }
        if (c.has("backend-wait-ms") && (Long) c.get("backend-wait-ms") > Long.MAX_VALUE / 1_000_000L) {
            errors.add("backend-wait-ms: must be at most " + Long.MAX_VALUE / 1_000_000L + ", got "
                    + c.get("backend-wait-ms"));
        }
        if (!errors.isEmpty()) {
            throw new InvalidConfigurationException(null, errors);
        }
        return new IOThreadSettings(name, (Long) c.get("poll-max-ns"), (Long) c.get("poll-grow"),
                (Long) c.get("poll-shrink"), (Long) c.get("aio-max-batch"), (Integer) c.get("thread-pool-min"),
                (Integer) c.get("thread-pool-max"), (String) c.get("fdmon"), (String) c.get("aio-engine"),
                (Long) c.get("backend-wait-ms"));
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
}
