package org.aiolos.nbd.osgi;

import java.io.IOException;
import org.aiolos.core.config.ConfigStore;
import org.aiolos.core.config.RefusedException;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Closing an export for good: its configuration is deleted (so it does not come back at
 * the next start), then the export stops, its requests in flight answered first. Used by
 * {@code nbd:close} and by the NbdExport MBean's {@code close} operation. Only this class
 * touches Config Admin for that, so {@link NbdExports} loads without it.
 */
final class ExportRemoval {
    static final long WAIT_MS = 5_000;

    private ExportRemoval() {
    }

    /**
     * Deletes {@code c} (and its {@code .cfg} file, through {@code store}: the files are the
     * truth) and waits (up to {@value #WAIT_MS} ms) for the export to stop.
     */
    static String deleteAndWait(ConfigStore store, Configuration c, NbdExports exports, String name)
            throws IOException, InterruptedException {
        String pid = c.getPid();
        store.delete(c);
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
        while (exports.entry(pid) != null) {
            if (System.nanoTime() > deadline) {
                return name + ": configuration deleted; the export has not stopped within " + WAIT_MS + " ms";
            }
            Thread.sleep(10);
        }
        return name + ": configuration deleted; export closed";
    }

    /** Finds configuration {@code pid} through the Config Admin service of {@code bc}, then as above. */
    static String close(BundleContext bc, NbdExports exports, String pid, String name) throws InterruptedException {
        ServiceReference<ConfigurationAdmin> ref = bc.getServiceReference(ConfigurationAdmin.class);
        ConfigurationAdmin cm = ref == null ? null : bc.getService(ref);
        if (cm == null) {
            return name + ": Config Admin is not running; the export's configuration cannot be deleted";
        }
        try {
            Configuration[] found = cm.listConfigurations("(service.pid=" + escape(pid) + ")");
            if (found == null || found.length == 0) {
                return name + ": configuration " + pid + " is already gone";
            }
            ConfigStore store = new ConfigStore(cm, NbdExportComponent.FACTORY_PID, ConfigStore.watchedFolder(bc));
            return deleteAndWait(store, found[0], exports, name);
        } catch (IOException | InvalidSyntaxException | RefusedException e) {
            // RefusedException: its .cfg file cannot be deleted, so nothing was.
            return name + ": could not delete configuration " + pid + ": " + e.getMessage();
        } finally {
            bc.ungetService(ref);
        }
    }

    /** An LDAP filter value: backslash, asterisk and parentheses escaped. */
    private static String escape(String value) {
        return value.replaceAll("([\\\\*()])", "\\\\$1");
    }
}
