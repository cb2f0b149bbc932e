package org.aiolos.core.osgi;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.aiolos.api.AioContext;
import org.aiolos.core.config.Assignments;
import org.aiolos.core.config.ConfigField;
import org.aiolos.core.config.ConfigSchema;
import org.aiolos.core.config.ConfigStore;
import org.aiolos.core.config.InvalidConfigurationException;
import org.aiolos.core.config.RefusedException;
import org.aiolos.core.config.UsageException;
import org.aiolos.core.jfr.IOThreadConfigurationRejectedEvent;
import org.apache.felix.service.command.Descriptor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The {@code aio} commands that change IOThread configurations, so an operator can create,
 * update and delete IOThreads live from the shell. An update is checked whole against the
 * Metatype and the cross-field rules before anything is stored; one with errors is
 * refused with all of them and nothing changes. A checked update goes to Config Admin;
 * if the IOThread still refuses it, the previous configuration is put back; if it applies
 * it, it is written to its {@code .cfg} file in the watched {@code conf/} folder
 * ({@link ConfigStore}), so it outlives a restart. Active only where Config Admin runs.
 */
@Component(service = AioConfigCommands.class, immediate = true, property = {"osgi.command.scope=aio",
        "osgi.command.function=configure", "osgi.command.function=unconfigure"})
public final class AioConfigCommands {
    private static final long WAIT_MS = 5_000;
    static final String CONFIGURE_USAGE = """
            usage: aio:configure <name>                      shows the IOThread's configuration
                   aio:configure <name> key=value|key= ...   creates or updates it
            key=value sets a field, key= takes it back to its default; an update with any error is
            refused whole, with every error, and nothing is stored. The IOThread's name is fixed.""";
    static final String UNCONFIGURE_USAGE = "usage: aio:unconfigure <name>   deletes the IOThread's configuration"
            + " (and its .cfg file): the IOThread stops";

    @Reference
    ConfigurationAdmin cm;
    @Reference
    RejectedConfigurations rejected;

    private BundleContext bc;
    private ConfigSchema schema;
    private ConfigStore store;

    @Activate
    void activate(BundleContext context) {
        bc = context;
        schema = IOThreadComponent.schema(context);
        store = new ConfigStore(cm, IOThreadComponent.FACTORY_PID, ConfigStore.watchedFolder(context));
    }

    @Descriptor("aio:configure without arguments: prints how to call it")
    public String configure() {
        throw new UsageException(null, CONFIGURE_USAGE + "\nkeys:\n" + keys());
    }

    @Descriptor("shows an IOThread's configuration: every field, its value, and which are defaults")
    public String configure(@Descriptor("the IOThread's name (aio:contexts lists them)") String name)
            throws IOException, InvalidSyntaxException {
        Configuration c = find(name);
        Configuration other = c == null ? store.namedOtherwise(null, name) : null;
        if (other != null) {
            throw new RefusedException(name + ": no IOThread of that name is configured; "
                    + ConfigStore.whatItConfigures(other, "IOThread") + ": aio:configure "
                    + ConfigStore.userProperties(other).get("name") + " shows it");
        }
        if (c == null) {
            // A failure, so that a script asking for a configuration it expects stops here.
            throw new RefusedException(name + ": no configuration" + (ref(name) != null ? " (the default IOThread)" : "")
                    + "; create one with aio:configure " + name + " key=value ...");
        }
        Map<String, Object> own = ConfigStore.userProperties(c);
        StringBuilder out = new StringBuilder(name + ": " + c.getPid());
        Object file = c.getProperties().get(ConfigStore.FILENAME);
        out.append(file == null ? " (Config Admin only, no file)" : " (" + file + ")");
        for (ConfigField f : schema.fields().values()) {
            Object v = own.get(f.id());
            out.append(String.format("%n  %-16s %s", f.id(), v != null ? v
                    : "(default" + (f.defaultValue() == null || f.defaultValue().isEmpty() ? ""
                    : ": " + f.defaultValue()) + ")"));
        }
        return out.toString();
    }

    /**
     * {@code aio:configure <name> key=value ...}: creates the IOThread's factory
     * configuration or updates it, then reports whether the IOThread applied it.
     */
    @Descriptor("creates or updates an IOThread's configuration: checked whole first (every error is"
            + " reported, nothing is stored on any), applied live, then written to conf/")
    public String configure(@Descriptor("the IOThread's name") String name,
                            @Descriptor("key=value sets a field, key= takes it back to its default"
                                    + " (aio:configure alone lists the keys, from the Metatype)") String... assignments)
            throws Exception {
        Configuration c = find(name);
        boolean created = c == null;
        Assignments a = Assignments.parse(assignments);
        Map<String, Object> next = a.applyTo(ConfigStore.userProperties(c));
        List<String> errors = new ArrayList<>();
        Object asked = a.set().get("name");
        if (asked != null && !asked.equals(name)) {
            errors.add("name: the IOThread's name is fixed ('" + name + "'); to rename, aio:unconfigure " + name
                    + " and aio:configure " + asked);
        }
        String renames = store.renames(c, name, "IOThread", "aio:configure");
        if (renames != null) {
            errors.add(renames);
        }
        next.put("name", name);
        try {
            IOThreadSettings.parse(schema, next, name);
        } catch (InvalidConfigurationException e) {
            errors.addAll(e.errors());
        }
        if (!errors.isEmpty()) {
            // Refused before it is stored: the same event as a refusal of a stored one.
            IOThreadConfigurationRejectedEvent.emit(c == null ? "" : c.getPid(), name, !created,
                    String.join("; ", errors));
            throw new InvalidConfigurationException(name + ": " + (created ? "configuration" : "update")
                    + " rejected, nothing stored", errors);
        }
        long before = updatesOf(name);
        rejected.clear(name);
        ConfigStore.Stored stored = store.store(c, name, next);
        String verdict = awaitVerdict(name, created, before);
        if (verdict != null && verdict.startsWith("rejected")) {
            store.rollback(stored);
            // The reason once, after the subject (the exception's message joins them).
            throw new InvalidConfigurationException(name + ": " + (created ? "configuration rejected, nothing stored"
                    : "update rejected, the previous configuration is back"),
                    List.of(verdict.substring("rejected: ".length())));
        }
        store.commit(stored);
        String what = created ? "created" : "applied";
        return verdict == null ? name + ": " + what + " (" + a + ")"
                : name + ": configuration stored; " + verdict;
    }

    /** @return null when applied, {@code rejected: ...}, or a note that it did not report back */
    private String awaitVerdict(String name, boolean created, long before) throws InterruptedException,
            InvalidSyntaxException {
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
        while (System.nanoTime() < deadline) {
            ServiceReference<AioContext> r = ref(name);
            String refused = rejected.reasonFor(name);
            if (r == null && refused != null) {
                return refused;
            }
            if (r != null && (created || updatesOf(name) > before)) {
                Object rej = r.getProperty(IOThreadRunner.REJECTED);
                return rej == null ? null : rej.toString();
            }
            Thread.sleep(10);
        }
        return "the IOThread has not reported back within " + WAIT_MS + " ms";
    }

    /** {@code aio:unconfigure <name>}: deletes the configuration, stopping that IOThread. */
    @Descriptor("deletes an IOThread's configuration and its .cfg file: the IOThread stops")
    public String unconfigure(@Descriptor("the IOThread's name") String name) throws IOException,
            InvalidSyntaxException {
        Configuration c = find(name);
        Configuration other = c == null ? store.namedOtherwise(null, name) : null;
        if (other != null) {
            throw new RefusedException(name + ": no IOThread of that name to delete; "
                    + ConfigStore.whatItConfigures(other, "IOThread") + ": aio:unconfigure "
                    + ConfigStore.userProperties(other).get("name") + " deletes it");
        }
        if (c == null) {
            throw new RefusedException(name + ": no configuration to delete");
        }
        store.delete(c);
        return name + ": configuration deleted; the IOThread stops";
    }

    @Descriptor("a wrong call of aio:unconfigure: prints how to call it")
    public String unconfigure(@Descriptor("anything else") Object... wrong) {
        throw new UsageException("aio:unconfigure: wrong arguments", UNCONFIGURE_USAGE);
    }

    private String keys() {
        StringBuilder sb = new StringBuilder();
        for (ConfigField f : schema.fields().values()) {
            sb.append(String.format("  %-16s %s%n", f.id(), f.description()));
        }
        return sb.toString().stripTrailing();
    }

    private Configuration find(String name) throws IOException, InvalidSyntaxException {
        String bad = ConfigStore.nameError("name", name);
        if (bad != null) {
            throw new UsageException(bad, CONFIGURE_USAGE);
        }
        Configuration[] all = cm.listConfigurations("(&(service.factoryPid=" + IOThreadComponent.FACTORY_PID
                + ")(name=" + name + "))");
        return all == null || all.length == 0 ? null : all[0];
    }

    private ServiceReference<AioContext> ref(String name) throws InvalidSyntaxException {
        Collection<ServiceReference<AioContext>> refs =
                bc.getServiceReferences(AioContext.class, "(" + AioContext.NAME_PROPERTY + "=" + name + ")");
        return refs.isEmpty() ? null : refs.iterator().next();
    }

    private long updatesOf(String name) throws InvalidSyntaxException {
        ServiceReference<AioContext> r = ref(name);
        return r != null && r.getProperty(IOThreadRunner.UPDATES) instanceof Long n ? n : -1;
    }
}
