package org.aiolos.nbd.osgi;

import java.io.IOException;
import java.util.Collections;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.TreeMap;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The {@code nbd} commands that change export configurations through Config Admin, so an
 * export made from the shell is the same thing as one from a {@code .cfg} file: it
 * survives in Config Admin's store, and shows up in {@code nbd:list}. Like
 * {@code aio:configure}, each change waits for the export to report back and says
 * whether it was applied or rejected, and why.
 */
@Component(service = NbdConfigCommands.class, immediate = true, property = {"osgi.command.scope=nbd",
        "osgi.command.function=export", "osgi.command.function=close"})
public final class NbdConfigCommands {
    private static final long WAIT_MS = 5_000;

    @Reference
    ConfigurationAdmin cm;
    @Reference
    NbdExports exports;

    /** {@code nbd:export <name>}: the export's configuration, or that it has none. */
    public String export(String name) throws IOException, InvalidSyntaxException {
        Configuration c = find(name);
        if (c == null) {
            return name + ": no configuration; create one with nbd:export " + name
                    + " <file> iothread=<name> [key=value ...]";
        }
        TreeMap<String, Object> shown = new TreeMap<>();
        for (String k : Collections.list(c.getProperties().keys())) {
            shown.put(k, c.getProperties().get(k));
        }
        return name + ": " + c.getPid() + " " + shown;
    }

    /**
     * {@code nbd:export <name> <file> [key=value ...]}: creates the export's factory
     * configuration, or updates it (re-exporting with the new settings), then reports
     * whether it was applied or rejected. Keys: read-only, direct, description, engine,
     * iothread, address, port.
     */
    public String export(String name, String file, String... assignments) throws Exception {
        Configuration c = find(name);
        boolean created = c == null;
        Dictionary<String, Object> props;
        if (created) {
            c = cm.getFactoryConfiguration(NbdExportComponent.FACTORY_PID, name, "?");
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
        props.put("file", file);
        String pid = c.getPid();
        ExportEntry.Snapshot before = exports.entry(pid);
        long seen = before == null ? 0 : before.updates();
        c.update(props);
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
        while (System.nanoTime() < deadline) {
            ExportEntry.Snapshot now = exports.entry(pid);
            if (now != null && now.updates() > seen) {
                return report(name, created, now);
            }
            Thread.sleep(10);
        }
        return name + ": configuration stored; the export has not reported back within " + WAIT_MS + " ms";
    }

    private static String report(String name, boolean created, ExportEntry.Snapshot e) {
        if (e.settings() == null) {
            return name + ": configuration " + e.rejected() + "; no export until it is fixed";
        }
        if (e.lastRejection() != null) {
            return name + ": update " + e.lastRejection() + "; the previous settings stay";
        }
        String verb = created ? "created" : "applied";
        if (e.serving()) {
            return name + ": " + verb + ", serving nbd://" + e.listener().bound() + "/" + name + " on IOThread '"
                    + e.settings().iothread() + "'";
        }
        return name + ": " + verb + ", " + e.waiting();
    }

    /** {@code nbd:close <name>}: deletes the configuration, withdrawing the export. */
    public String close(String name) throws Exception {
        Configuration c = find(name);
        if (c == null) {
            return name + ": no configuration to delete";
        }
        return ExportRemoval.deleteAndWait(c, exports, name);
    }

    /**
     * By the name property, or by the PID of a configuration named after the export (a .cfg
     * file). Of several (a second one was rejected for taking the name), the one whose
     * export exists.
     */
    private Configuration find(String name) throws IOException, InvalidSyntaxException {
        if (!name.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("name: must be letters, digits, '_', '.' or '-', got '" + name + "'");
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
