package org.aiolos.nbd.osgi;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.aiolos.core.config.Assignments;
import org.aiolos.core.config.ConfigField;
import org.aiolos.core.config.ConfigSchema;
import org.aiolos.core.config.ConfigStore;
import org.aiolos.core.config.InvalidConfigurationException;
import org.aiolos.core.config.RefusedException;
import org.aiolos.core.config.UsageException;
import org.aiolos.nbd.jfr.ExportConfigurationRejectedEvent;
import org.apache.felix.service.command.Descriptor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The {@code nbd} commands that change export configurations, so an export made from the
 * shell is the same thing as one from a {@code .cfg} file: it is written to its file in
 * the watched {@code conf/} folder and outlives a restart, and it shows up in
 * {@code nbd:list}. As with {@code aio:configure}, an update is checked whole (Metatype,
 * then the file and names) before anything is stored, and refused with every error; a
 * checked update goes to Config Admin, and if the export still refuses it (the port is
 * taken, the name belongs to another export) the previous configuration is put back.
 */
@Component(service = NbdConfigCommands.class, immediate = true, property = {"osgi.command.scope=nbd",
        "osgi.command.function=export", "osgi.command.function=close"})
public final class NbdConfigCommands {
    private static final long WAIT_MS = 5_000;
    static final String EXPORT_USAGE = """
            usage: nbd:export <name>                                shows the export's configuration
                   nbd:export <name> <file> [key=value|key= ...]    creates or updates it
            key=value sets a field, key= takes it back to its default; a new export needs iothread=,
            and iothreads=io2,io3 spreads its connections over further IOThreads.
            An update with any error is refused whole, with every error, and nothing is stored.""";
    static final String CLOSE_USAGE = "usage: nbd:close <name>   deletes the export's configuration (and its .cfg"
            + " file): the export is withdrawn";

    @Reference
    ConfigurationAdmin cm;
    @Reference
    NbdExports exports;

    private ConfigSchema schema;
    private ConfigStore store;

    @Activate
    void activate(BundleContext context) {
        schema = NbdExports.schema(context);
        store = new ConfigStore(cm, NbdExportComponent.FACTORY_PID, ConfigStore.watchedFolder(context));
    }

    @Descriptor("nbd:export without arguments: prints how to call it and the keys")
    public String export() {
        StringBuilder keys = new StringBuilder();
        for (ConfigField f : schema.fields().values()) {
            keys.append(String.format("%n  %-12s %s", f.id(), f.description()));
        }
        throw new UsageException(null, EXPORT_USAGE + "\nkeys:" + keys);
    }

    /** {@code nbd:export <name>}: the export's configuration, or that it has none. */
    @Descriptor("shows an export's configuration: every field, its value, and which are defaults")
    public String export(@Descriptor("the export's name (nbd:list lists them)") String name)
            throws IOException, InvalidSyntaxException {
        Configuration c = find(name);
        Configuration other = store.namedOtherwise(c, name);
        if (other != null) {
            throw new RefusedException(name + ": no export of that name is configured; "
                    + ConfigStore.whatItConfigures(other, "export") + ": nbd:export "
                    + ConfigStore.userProperties(other).get("name") + " shows it");
        }
        if (c == null) {
            // A failure, so that a script asking for an export it expects stops here.
            throw new RefusedException(name + ": no configuration; create one with nbd:export " + name
                    + " <file> iothread=<name> [key=value ...]");
        }
        Map<String, Object> own = ConfigStore.userProperties(c);
        Object file = c.getProperties().get(ConfigStore.FILENAME);
        StringBuilder out = new StringBuilder(name + ": " + c.getPid()
                + (file == null ? " (Config Admin only, no file)" : " (" + file + ")"));
        for (ConfigField f : schema.fields().values()) {
            Object v = own.get(f.id());
            out.append(String.format("%n  %-12s %s", f.id(), v != null ? v
                    : "(default" + (f.defaultValue() == null || f.defaultValue().isEmpty() ? ""
                    : ": " + f.defaultValue()) + ")"));
        }
        return out.toString();
    }

    /**
     * {@code nbd:export <name> <file> [key=value ...]}: creates the export's factory
     * configuration, or updates it (re-exporting with the new settings), then reports
     * whether it was applied.
     */
    @Descriptor("creates or updates an export: checked whole first (every error is reported, nothing is"
            + " stored on any), served, then written to conf/")
    public String export(@Descriptor("the export's name, what clients ask for (nbd://host:port/NAME)") String name,
                         @Descriptor("the image file (an existing regular file)") String file,
                         @Descriptor("key=value sets a field, key= takes it back to its default (nbd:export alone"
                                 + " lists the keys, from the Metatype)") String... assignments) throws Exception {
        Configuration c = find(name);
        boolean created = c == null;
        Assignments a = Assignments.parse(assignments);
        Map<String, Object> next = a.applyTo(ConfigStore.userProperties(c));
        List<String> errors = new ArrayList<>();
        Object askedName = a.set().get("name");
        if (askedName != null && !askedName.equals(name)) {
            errors.add("name: the export's name is the command's first argument ('" + name + "'); to rename,"
                    + " nbd:close " + name + " and nbd:export " + askedName + " " + file);
        }
        Object askedFile = a.set().get("file");
        if (askedFile != null && !askedFile.equals(file)) {
            errors.add("file: given twice ('" + file + "' and file=" + askedFile + ")");
        }
        String renames = store.renames(c, name, "export", "nbd:export");
        if (renames != null) {
            errors.add(renames);
        }
        next.put("name", name);
        next.put("file", file);
        try {
            exports.check(c == null ? null : c.getPid(), next, name);
        } catch (InvalidConfigurationException e) {
            errors.addAll(e.errors());
        }
        if (!errors.isEmpty()) {
            // Refused before it is stored: the same event as a refusal of a stored one.
            ExportConfigurationRejectedEvent.emit(c == null ? "" : c.getPid(), name, !created,
                    String.join("; ", errors));
            throw new InvalidConfigurationException(name + ": " + (created ? "configuration" : "update")
                    + " rejected, nothing stored", errors);
        }
        String pid = c == null ? null : c.getPid();
        ExportEntry.Snapshot before = pid == null ? null : exports.entry(pid);
        long seen = before == null ? 0 : before.updates();
        ConfigStore.Stored stored = store.store(c, name, next);
        pid = stored.configuration().getPid();
        ExportEntry.Snapshot now = await(pid, seen);
        if (now == null) {
            store.commit(stored);
            return name + ": configuration stored; the export has not reported back within " + WAIT_MS + " ms";
        }
        String refused = now.settings() == null ? now.rejected() : now.lastRejection();
        if (refused != null) {
            store.rollback(stored);
            // The reason once, after the subject (the exception's message joins them).
            throw new InvalidConfigurationException(name + ": " + (created ? "configuration rejected, nothing stored"
                    : "update rejected, the previous configuration is back"),
                    // Rolled back, so nothing is tried again: the listing's retry note does not apply.
                    List.of(refused.substring("rejected: ".length()).replace(ExportEntry.RETRIED_NOTE, "")));
        }
        store.commit(stored);
        String verb = created ? "created" : "applied";
        if (now.serving()) {
            String on = now.listener().servingNames();
            return name + ": " + verb + ", serving " + now.listener().uri(name) + " on IOThread"
                    + (on.indexOf(',') < 0 ? " '" : "s '") + on + "'";
        }
        return name + ": " + verb + ", " + now.waiting();
    }

    private ExportEntry.Snapshot await(String pid, long seen) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
        while (System.nanoTime() < deadline) {
            ExportEntry.Snapshot now = exports.entry(pid);
            if (now != null && now.updates() > seen) {
                return now;
            }
            Thread.sleep(10);
        }
        return null;
    }

    /** {@code nbd:close <name>}: deletes the configuration, withdrawing the export. */
    @Descriptor("deletes an export's configuration and its .cfg file: the export is withdrawn (requests in"
            + " flight finish first)")
    public String close(@Descriptor("the export's name") String name) throws Exception {
        Configuration c = find(name);
        Configuration other = store.namedOtherwise(c, name);
        if (other != null) {
            // Found by its file's name, it configures another export: closing that one takes its own name.
            throw new RefusedException(name + ": no export of that name to close; "
                    + ConfigStore.whatItConfigures(other, "export") + ": nbd:close "
                    + ConfigStore.userProperties(other).get("name") + " closes it");
        }
        if (c == null) {
            throw new RefusedException(name + ": no configuration to delete");
        }
        String closed = ExportRemoval.deleteAndWait(store, c, exports, name);
        // A configuration refused for taking this name is tried again once it is free.
        Configuration next = find(name);
        if (next != null && name.equals(ConfigStore.userProperties(next).get("name"))) {
            Object file = next.getProperties().get(ConfigStore.FILENAME);
            closed += "; another configuration of '" + name + "' takes the name now ("
                    + (file == null ? next.getPid() : file) + "); nbd:close " + name + " again closes that one";
        }
        return closed;
    }

    @Descriptor("a wrong call of nbd:close: prints how to call it")
    public String close(@Descriptor("anything else") Object... wrong) {
        throw new UsageException("nbd:close: wrong arguments", CLOSE_USAGE);
    }

    /**
     * By the name property, or by the PID of a configuration named after the export (a .cfg
     * file). Of several (a second one was rejected for taking the name), the one whose
     * export exists.
     */
    private Configuration find(String name) throws IOException, InvalidSyntaxException {
        String bad = ConfigStore.nameError("name", name);
        if (bad != null) {
            throw new UsageException(bad, EXPORT_USAGE);
        }
        String f = NbdExportComponent.FACTORY_PID;
        Configuration[] all = cm.listConfigurations("(&(service.factoryPid=" + f + ")(|(name=" + name
                + ")(service.pid=" + f + "~" + name + ")))");
        if (all == null || all.length == 0) {
            return null;
        }
        for (Configuration c : all) {
            ExportEntry.Snapshot e = exports.entry(c.getPid());
            if (e != null && e.settings() != null && e.settings().name().equals(name)) {
                return c;
            }
        }
        return all[0];
    }
}
