package org.aiolos.core.osgi;

import java.io.IOException;
import java.util.Collection;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.TreeMap;
import org.aiolos.api.AioContext;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The {@code aio} commands that change IOThread configurations through Config Admin, so
 * an operator can create, update and delete IOThreads live from the shell and see an
 * invalid update rejected. Active only where Config Admin runs.
 */
@Component(service = AioConfigCommands.class, immediate = true, property = {"osgi.command.scope=aio",
        "osgi.command.function=configure", "osgi.command.function=unconfigure"})
public final class AioConfigCommands {
    private static final long WAIT_MS = 5_000;

    @Reference
    ConfigurationAdmin cm;

    private BundleContext bc;

    @Activate
    void activate(BundleContext context) {
        bc = context;
    }

    /** {@code aio:configure <name>}: the IOThread's configuration, or that it has none. */
    public String configure(String name) throws IOException, InvalidSyntaxException {
        Configuration c = find(name);
        if (c == null) {
            return name + ": no configuration" + (ref(name) != null ? " (the default IOThread)" : "")
                    + "; create one with aio:configure " + name + " key=value ...";
        }
        TreeMap<String, Object> shown = new TreeMap<>();
        for (String k : java.util.Collections.list(c.getProperties().keys())) {
            shown.put(k, c.getProperties().get(k));
        }
        return name + ": " + c.getPid() + " " + shown;
    }

    /**
     * {@code aio:configure <name> key=value ...}: creates the IOThread's factory
     * configuration or updates it, then reports whether the IOThread applied or rejected it.
     */
    public String configure(String name, String... assignments) throws Exception {
        Dictionary<String, Object> props;
        Configuration c = find(name);
        boolean created = c == null;
        if (created) {
            c = cm.getFactoryConfiguration(IOThreadComponent.FACTORY_PID, name, "?");
            props = new Hashtable<>();
        } else {
            props = c.getProperties();
        }
        for (String a : assignments) {
            int eq = a.indexOf('=');
            if (eq <= 0) {
                return "expected key=value, got '" + a + "'";
            }
            props.put(a.substring(0, eq), a.substring(eq + 1));
        }
        props.put("name", name);
        long before = updatesOf(name);
        c.update(props);
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
        while (System.nanoTime() < deadline) {
            ServiceReference<AioContext> r = ref(name);
            if (r != null && (created || updatesOf(name) > before)) {
                Object rejected = r.getProperty(IOThreadRunner.REJECTED);
                return name + ": " + (rejected != null ? "update " + rejected
                        : (created ? "created" : "applied") + " (" + String.join(" ", assignments) + ")");
            }
            Thread.sleep(10);
        }
        return name + ": configuration stored; the IOThread has not reported back within " + WAIT_MS
                + " ms (an invalid first configuration is logged by SCR)";
    }

    /** {@code aio:unconfigure <name>}: deletes the configuration, stopping that IOThread. */
    public String unconfigure(String name) throws IOException, InvalidSyntaxException {
        Configuration c = find(name);
        if (c == null) {
            return name + ": no configuration to delete";
        }
        c.delete();
        return name + ": configuration deleted; the IOThread stops";
    }

    private Configuration find(String name) throws IOException, InvalidSyntaxException {
        if (!name.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("name: must be letters, digits, '_', '.' or '-', got '" + name + "'");
        }
        Configuration[] all = cm.listConfigurations("(&(service.factoryPid=" + IOThreadComponent.FACTORY_PID
                + ")(name=" + name + "))");
        return all == null || all.length == 0 ? null : all[0];
    }

    private ServiceReference<AioContext> ref(String name) throws InvalidSyntaxException {
        Collection<ServiceReference<AioContext>> refs =
                bc.getServiceReferences(AioContext.class, "(" + IOThreadRunner.NAME + "=" + name + ")");
        return refs.isEmpty() ? null : refs.iterator().next();
    }

    private long updatesOf(String name) throws InvalidSyntaxException {
        ServiceReference<AioContext> r = ref(name);
        return r != null && r.getProperty(IOThreadRunner.UPDATES) instanceof Long n ? n : -1;
    }
}
