package org.aiolos.launcher;

import java.lang.reflect.Method;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.List;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * Keeps "the files of conf/ are the configuration" true across restarts. Config Admin's
 * store survives in the framework cache, and FileInstall notices a {@code .cfg} deleted
 * only while it runs, so at start, before FileInstall, every configuration that came from
 * a file ({@code felix.fileinstall.filename}) whose file is gone, or is not in the folder
 * watched now, is deleted. Configurations without a file (made by another Config Admin
 * client) are kept.
 *
 * <p>Config Admin's API lives in its bundle, not on the launcher's class path, so it is
 * called reflectively through that bundle's classes.
 */
final class StaleConfigurations {
    static final String FILENAME = "felix.fileinstall.filename";
    private static final System.Logger LOG = System.getLogger("org.aiolos.launcher");

    private StaleConfigurations() {
    }

    /** @return the PIDs deleted */
    static List<String> prune(BundleContext bc, Path conf) throws ReflectiveOperationException {
        ServiceReference<?> ref = bc.getServiceReference("org.osgi.service.cm.ConfigurationAdmin");
        if (ref == null) {
            throw new IllegalStateException("Config Admin is not running");
        }
        Object cm = bc.getService(ref);
        try {
            Class<?> cmType = ref.getBundle().loadClass("org.osgi.service.cm.ConfigurationAdmin");
            Class<?> confType = ref.getBundle().loadClass("org.osgi.service.cm.Configuration");
            Method list = cmType.getMethod("listConfigurations", String.class);
            Method props = confType.getMethod("getProperties");
            Method pid = confType.getMethod("getPid");
            Method delete = confType.getMethod("delete");
            Object[] all = (Object[]) list.invoke(cm, "(" + FILENAME + "=*)");
            List<String> deleted = new ArrayList<>();
            Path folder = conf.toAbsolutePath().normalize();
            for (Object c : all == null ? new Object[0] : all) {
                Dictionary<?, ?> d = (Dictionary<?, ?>) props.invoke(c);
                Object name = d == null ? null : d.get(FILENAME);
                if (name != null && !inFolder(name.toString(), folder)) {
                    String id = (String) pid.invoke(c);
                    deleted.add(id);
                    delete.invoke(c);
                    // The console has only the count; the log says which, so a vanished export can be traced.
                    LOG.log(System.Logger.Level.INFO, "stale configuration deleted: " + id + " (from " + name
                            + ", no longer a file of " + folder + ")");
                }
            }
            return deleted;
        } finally {
            bc.ungetService(ref);
        }
    }

    private static boolean inFolder(String fileUri, Path folder) {
        try {
            Path f = Path.of(URI.create(fileUri)).toAbsolutePath().normalize();
            return folder.equals(f.getParent()) && Files.isRegularFile(f);
        } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            return false;
        }
    }
}
