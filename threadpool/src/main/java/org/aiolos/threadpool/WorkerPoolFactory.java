package org.aiolos.threadpool;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import org.aiolos.api.AioContext;
import org.aiolos.api.threadpool.ThreadPool;
import org.aiolos.api.threadpool.ThreadPoolFactory;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;

/**
 * Opens {@link WorkerPool}s: QEMU's thread pool, one per context. Workers leave after
 * {@value #IDLE_TIMEOUT_PROPERTY} milliseconds without work (10 s by default, as in QEMU),
 * unless {@code thread-pool-min} keeps them.
 *
 * <p>Deactivating the component (stopping its bundle) does not close the pools it
 * opened: their owners (the contexts) move new submissions to another provider and close
 * these pools once their in-flight work has completed, so no completion is lost.
 */
@Component(service = ThreadPoolFactory.class,
        property = {ThreadPoolFactory.NAME_PROPERTY + "=" + WorkerPoolFactory.NAME, "service.ranking:Integer=0",
                WorkerPoolFactory.IDLE_TIMEOUT_PROPERTY + ":Long=10000"})
public final class WorkerPoolFactory implements ThreadPoolFactory {
    /** This provider's name. */
    public static final String NAME = "workers";
    /** Component property: the idle time after which a surplus worker leaves, in ms. */
    public static final String IDLE_TIMEOUT_PROPERTY = "idle.timeout.ms";
    /** QEMU's worker idle timeout. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(10);

    private volatile Duration idleTimeout;

    /** QEMU's 10 s idle timeout (the {@link java.util.ServiceLoader} and DS constructor). */
    public WorkerPoolFactory() {
        this(DEFAULT_IDLE_TIMEOUT);
    }

    /** @param idleTimeout how long a surplus worker waits for work before it leaves; > 0 */
    public WorkerPoolFactory(Duration idleTimeout) {
        this.idleTimeout = checkTimeout(idleTimeout);
    }

    /** DS activation and reconfiguration: reads {@value #IDLE_TIMEOUT_PROPERTY}. Affects pools opened later. */
    @Activate
    @Modified
    void configure(Map<String, Object> properties) {
        Object v = properties.get(IDLE_TIMEOUT_PROPERTY);
        if (v == null) {
            return;
        }
        long ms;
        if (v instanceof Number n) {
            ms = n.longValue();
        } else {
            try {
                ms = Long.parseLong(v.toString().trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(IDLE_TIMEOUT_PROPERTY + " must be a number of milliseconds, got '"
                        + v + "'", e);
            }
        }
        idleTimeout = checkTimeout(Duration.ofMillis(ms));
    }

    private static Duration checkTimeout(Duration d) {
        Objects.requireNonNull(d, "idleTimeout");
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(IDLE_TIMEOUT_PROPERTY + " must be > 0, got " + d.toMillis() + " ms");
        }
        return d;
    }

    /** The idle timeout pools opened now get. */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ThreadPool open(AioContext ctx) {
        Objects.requireNonNull(ctx, "ctx");
        return new WorkerPool(ctx, idleTimeout);
    }

    @Override
    public String toString() {
        return "worker thread-pool factory (idle timeout " + idleTimeout.toMillis() + " ms)";
    }
}
