package org.aiolos.demo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.AioContext;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * Says why the echo demo does not run when its {@code context.target} is the reason
 * ({@link EchoTarget}): a malformed filter at once, and a filter that matches no IOThread
 * once it has matched none for {@link #GRACE_MS}, naming the IOThreads that run (as an NBD
 * export says which IOThread it waits for). The grace keeps the start quiet, where the
 * configuration may come before the IOThreads of {@code conf/} have started. It reads the
 * same configuration as {@link EchoComponent} and every IOThread's context service, so it
 * runs while the demo cannot.
 */
@Component(service = {}, immediate = true, configurationPid = EchoComponent.PID)
public final class EchoTargetWatch {
    private static final System.Logger LOG = System.getLogger("org.aiolos.demo");
    /** How long a configured filter may match no IOThread before that is logged. */
    static final long GRACE_MS = 5_000;

    private final long graceMs;
    /** The context services' properties by service id; guarded by this. */
    private final Map<Object, Map<String, Object>> contexts = new HashMap<>();
    private EchoTarget target = EchoTarget.of(Map.of());
    private ScheduledThreadPoolExecutor timer;
    private ScheduledFuture<?> warning;
    /** Counts the warnings scheduled: one cancelled after it started finds a newer number and says nothing. */
    private long scheduled;

    public EchoTargetWatch() {
        this(GRACE_MS);
    }

    EchoTargetWatch(long graceMs) {
        this.graceMs = graceMs;
    }

    @Reference(service = AioContext.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC)
    synchronized void bindContext(Map<String, Object> props) {
        contexts.put(props.get(Constants.SERVICE_ID), props);
        look();
    }

    synchronized void unbindContext(Map<String, Object> props) {
        contexts.remove(props.get(Constants.SERVICE_ID));
        look();
    }

    @Activate
    synchronized void activate(Map<String, Object> props) {
        timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "aiolos-echo-target");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        modified(props);
    }

    @Modified
    synchronized void modified(Map<String, Object> props) {
        target = EchoTarget.of(props);
        String malformed = target.malformedWarning();
        if (malformed != null) {
            LOG.log(System.Logger.Level.WARNING, malformed);
        }
        cancelWarning(); // a new filter gets its own grace
        look();
    }

    @Deactivate
    synchronized void deactivate() {
        cancelWarning();
        timer.shutdownNow();
        timer = null; // SCR unbinds the contexts after this: nothing is scheduled then
    }

    /** Schedules the waiting warning when the filter matches no IOThread, cancels it when one does. */
    private void look() {
        if (timer == null) {
            return; // bound before activation (activate looks), or unbound after deactivation
        }
        if (target.waitingWarning(contexts.values()) == null) {
            cancelWarning();
        } else if (warning == null) {
            long mine = ++scheduled;
            warning = timer.schedule(() -> warnIfStillWaiting(mine), graceMs, TimeUnit.MILLISECONDS);
        }
    }

    private synchronized void warnIfStillWaiting(long mine) {
        if (mine != scheduled || warning == null) {
            return; // cancelled while it waited for the lock
        }
        warning = null;
        String w = target.waitingWarning(new ArrayList<>(contexts.values()));
        if (w != null) {
            LOG.log(System.Logger.Level.WARNING, w);
        }
    }

    private void cancelWarning() {
        if (warning != null) {
            warning.cancel(false);
            warning = null;
        }
    }
}
