package org.aiolos.core.osgi;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.aiolos.core.config.ConfigSchema;
import org.aiolos.core.config.MetatypeSchemas;
import org.aiolos.core.jfr.IOThreadConfigurationRejectedEvent;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

/**
 * One IOThread per Config Admin factory configuration of {@value #FACTORY_PID}. Creating a
 * configuration starts an IOThread; updating it applies the new settings to the running
 * loop (or rejects them whole, naming the field); deleting it stops the thread.
 */
@Component(configurationPid = IOThreadComponent.FACTORY_PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {}, immediate = true)
@Designate(ocd = IOThreadConfig.class, factory = true)
public final class IOThreadComponent {
    public static final String FACTORY_PID = "org.aiolos.iothread";

    private static final System.Logger LOG = System.getLogger("org.aiolos.core");

    @Reference
    BackendRegistry backends;
    @Reference
    RejectedConfigurations rejected;

    /**
     * The configuration (PID) running each IOThread name. One per name: a second file with
     * the same {@code name=} would start a second IOThread under it and take its exports.
     * Shared by this bundle's instances of the component (one per configuration).
     */
    private static final Map<String, Object> RUNNING = new ConcurrentHashMap<>();

    private BundleContext bc;
    private ConfigSchema schema;
    private String name;
    private Object pid;
    /** Null while the configuration has never been valid. */
    private IOThreadRunner runner;

    /**
     * Starts the IOThread; an invalid first configuration starts none, is logged at
     * WARNING naming the field and listed as rejected, and the next valid update starts it.
     */
    @Activate
    synchronized void activate(BundleContext context, Map<String, Object> props) {
        bc = context;
        schema = schema(context);
        name = defaultName(props);
        pid = props.get("service.pid");
        start(props);
        rejected.tried(pid);
    }

    @Modified
    synchronized void modified(Map<String, Object> props) {
        if (runner == null) {
            start(props);
        } else {
            runner.update(schema, props);
        }
    }

    private void start(Map<String, Object> props) {
        IOThreadSettings settings;
        try {
            settings = IOThreadSettings.parse(schema, props, name);
        } catch (IllegalArgumentException e) {
            Object n = props.get("name");
            String key = n == null ? name : n.toString();
            String reason = "rejected: " + e.getMessage();
            rejected.reject(key, reason);
            LOG.log(System.Logger.Level.WARNING, "IOThread configuration ''{0}'' {1}; no IOThread until it is fixed",
                    key, reason);
            IOThreadConfigurationRejectedEvent.emit(props.get("service.pid"), key, false, e.getMessage());
            return;
        }
        Object owner = RUNNING.putIfAbsent(settings.name(), pid);
        if (owner != null && !owner.equals(pid)) {
            // Listed under this configuration's own name, so the running IOThread's entry stays clean.
            String reason = "rejected: name: IOThread '" + settings.name() + "' already runs from configuration "
                    + owner + "; give this one another name";
            rejected.reject(name, reason);
            LOG.log(System.Logger.Level.WARNING, "IOThread configuration {0} {1}", pid, reason);
            IOThreadConfigurationRejectedEvent.emit(pid, settings.name(), false, reason.substring("rejected: ".length()));
            return;
        }
        rejected.clear(name);
        rejected.clear(settings.name());
        name = settings.name();
        try {
            runner = new IOThreadRunner(bc, settings, backends, "configuration");
        } catch (RuntimeException | Error e) {
            RUNNING.remove(name, pid); // the name is not taken by an IOThread that never ran
            throw e;
        }
    }

    @Deactivate
    synchronized void deactivate() {
        rejected.forget(pid);
        rejected.clear(name);
        if (runner != null) {
            runner.close();
            RUNNING.remove(name, pid);
        }
    }

    /** The IOThread configuration's Metatype ({@link IOThreadConfig}) as core declares it. */
    static ConfigSchema schema(BundleContext context) {
        return MetatypeSchemas.of(context.getBundle(), FACTORY_PID);
    }

    /**
     * A configuration without a name is named after its PID's last part, as it is: one that
     * is no valid name ({@code iothread-My Thread.cfg}) is refused as an explicit
     * {@code name=} would be, rather than run under a name the shell cannot find it by
     * (NBD exports do the same).
     */
    static String defaultName(Map<String, ?> props) {
        Object pid = props.get("service.pid");
        String s = pid == null ? "iothread" : pid.toString();
        int cut = Math.max(s.lastIndexOf('~'), s.lastIndexOf('.'));
        return "iothread-" + s.substring(cut + 1);
    }
}
