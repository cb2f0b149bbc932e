package org.aiolos.core.osgi;

import java.lang.management.ManagementFactory;
import java.util.Hashtable;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import org.aiolos.api.AioContext;
import org.aiolos.api.IOThread;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.config.ConfigSchema;
import org.aiolos.core.jfr.IOThreadConfigurationRejectedEvent;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * One running IOThread as the OSGi side sees it: the thread and its context, the context's
 * {@link AioContext} service (so other bundles can use it) and its MBean. Configuration
 * updates go through {@link #update}, which applies a valid one live and keeps the old
 * settings on a bad one.
 */
final class IOThreadRunner {
    static final String SOURCE = "aiolos.source";
    static final String THREAD = "aiolos.thread";
    static final String REJECTED = "aiolos.rejected";
    /** Counts configuration updates handled (applied or rejected), so a caller can wait for its own. */
    static final String UPDATES = "aiolos.updates";
    private static final System.Logger LOG = System.getLogger("org.aiolos.core");

    private final IOThread thread;
    private final String source;
    private final ServiceRegistration<AioContext> registration;
    private final ObjectName mbeanName;
    private volatile IOThreadSettings settings;
    private volatile String lastRejection;
    private long updates;

    /**
     * Starts the thread and publishes its context.
     *
     * @param source {@code configuration} or {@code default}, a service property other
     *     components filter on
     */
    IOThreadRunner(BundleContext bc, IOThreadSettings settings, BackendRegistry backends, String source) {
        this.settings = settings;
        this.source = source;
        this.thread = Aiolos.newIOThread(settings.toOptions(backends));
        thread.start();
        this.mbeanName = registerMBean();
        this.registration = bc.registerService(AioContext.class, thread.context(), properties());
        LOG.log(System.Logger.Level.INFO, "IOThread ''{0}'' started ({1})", settings.name(), source);
    }

    String name() {
        return settings.name();
    }

    AiolosContext context() {
        return (AiolosContext) thread.context();
    }

    IOThread ioThread() {
        return thread;
    }

    String lastRejection() {
        return lastRejection;
    }

    /**
     * Applies new configuration properties live, or rejects them all (logged at WARNING,
     * kept in {@link #lastRejection} and in the service property {@value #REJECTED}).
     *
     * @return null when applied, else the rejection message
     */
    synchronized String update(ConfigSchema schema, java.util.Map<String, ?> props) {
        updates++;
        IOThreadSettings next;
        try {
            next = IOThreadSettings.parse(schema, props, settings.name());
            if (!next.name().equals(settings.name())) {
                throw new IllegalArgumentException("name: a running IOThread cannot be renamed ('"
                        + settings.name() + "' -> '" + next.name() + "'); delete its configuration and create"
                        + " another");
            }
        } catch (IllegalArgumentException e) {
            lastRejection = "rejected: " + e.getMessage();
            LOG.log(System.Logger.Level.WARNING, "IOThread ''{0}'': configuration {1}; keeping the previous settings",
                    settings.name(), lastRejection);
            IOThreadConfigurationRejectedEvent.emit(props.get("service.pid"), settings.name(), true, e.getMessage());
            registration.setProperties(properties());
            return lastRejection;
        }
        AiolosContext ctx = context();
        ctx.setPollParams(next.pollMaxNs(), next.pollGrow(), next.pollShrink());
        ctx.setAioParams(next.aioMaxBatch());
        ctx.setThreadPoolParams(next.threadPoolMin(), next.threadPoolMax());
        ctx.setBackendWaitMs(next.backendWaitMs());
        // Against what the context is set to now, not the previous settings: an aio:use since
        // then lasts until the configuration changes, which puts its choices back in force.
        String fdmon = next.fdmon().isEmpty() ? null : next.fdmon();
        if (!java.util.Objects.equals(MonitorWait.status(ctx, "fdmon").configured(), fdmon)) {
            ctx.useFdMonitor(fdmon);
        }
        String engine = next.aioEngine().isEmpty() ? null : next.aioEngine();
        if (!java.util.Objects.equals(MonitorWait.status(ctx, "aio-engine").configured(), engine)) {
            ctx.useDiskEngine(engine);
        }
        settings = next;
        lastRejection = null;
        registration.setProperties(properties());
        LOG.log(System.Logger.Level.INFO, "IOThread ''{0}'': configuration applied: {1}", next.name(), next.describe());
        return null;
    }

    IOThreadSettings settings() {
        return settings;
    }

    /** Withdraws the MBean and the service first, so users let go while the loop still runs. */
    void close() {
        unregisterMBean();
        try {
            registration.unregister();
        } catch (IllegalStateException alreadyGone) {
            // the framework unregisters a stopping bundle's services itself
        }
        try {
            thread.close();
        } catch (IllegalStateException e) {
            // A user left a bottom half scheduled or a timer armed: the context is closed all
            // the same, and the message names what was left.
            LOG.log(System.Logger.Level.WARNING, e.getMessage());
        }
        LOG.log(System.Logger.Level.INFO, "IOThread ''{0}'' stopped", settings.name());
    }

    private Hashtable<String, Object> properties() {
        IOThreadSettings s = settings;
        Hashtable<String, Object> p = new Hashtable<>();
        p.put(AioContext.NAME_PROPERTY, s.name());
        p.put(SOURCE, source);
        p.put(THREAD, thread.thread() == null ? s.name() : thread.thread().getName());
        p.put("fdmon", s.fdmon());
        p.put("aio-engine", s.aioEngine());
        p.put("poll-max-ns", s.pollMaxNs());
        p.put("thread-pool-min", s.threadPoolMin());
        p.put("thread-pool-max", s.threadPoolMax());
        p.put(UPDATES, updates);
        String r = lastRejection;
        if (r != null) {
            p.put(REJECTED, r);
        }
        return p;
    }

    private ObjectName registerMBean() {
        try {
            ObjectName on = objectName(settings.name());
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            server.registerMBean(new StandardMBean(new AioContextStats(this), AioContextStatsMBean.class), on);
            return on;
        } catch (JMException e) {
            LOG.log(System.Logger.Level.WARNING, "IOThread ''{0}'': no MBean ({1})", settings.name(), e.toString());
            return null;
        }
    }

    private void unregisterMBean() {
        if (mbeanName == null) {
            return;
        }
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(mbeanName);
        } catch (JMException e) {
            LOG.log(System.Logger.Level.DEBUG, "MBean {0} already gone", mbeanName);
        }
    }

    static ObjectName objectName(String contextName) throws JMException {
        return new ObjectName("org.aiolos", new Hashtable<>(java.util.Map.of("type", "AioContext", "name", contextName)));
    }
}
