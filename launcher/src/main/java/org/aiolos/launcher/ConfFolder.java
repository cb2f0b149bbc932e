package org.aiolos.launcher;

import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * Hands the configuration files of a folder to Config Admin, once, at start. A file
 * {@code <factoryPid>-<name>.cfg} (Java properties) becomes the factory configuration
 * {@code <name>} of {@code <factoryPid>}, e.g. {@code org.aiolos.iothread-io1.cfg}; a file
 * {@code <pid>.cfg} becomes the configuration of {@code <pid>}, e.g.
 * {@code org.aiolos.demo.echo.cfg}.
 *
 * <p>Config Admin's API lives in its bundle, not on the launcher's class path, so it is
 * called reflectively through the classes of that bundle.
 */
final class ConfFolder {
    private final Path dir;

    ConfFolder(Path dir) {
        this.dir = dir;
    }

    /** @return how many configurations were created */
    int apply(BundleContext bc) throws IOException, ReflectiveOperationException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".cfg")).sorted().toList();
        }
        if (files.isEmpty()) {
            return 0;
        }
        ServiceReference<?> ref = bc.getServiceReference("org.osgi.service.cm.ConfigurationAdmin");
        if (ref == null) {
            throw new IllegalStateException("Config Admin is not running; cannot apply " + dir);
        }
        Object cm = bc.getService(ref);
        Class<?> cmType = ref.getBundle().loadClass("org.osgi.service.cm.ConfigurationAdmin");
        Class<?> confType = ref.getBundle().loadClass("org.osgi.service.cm.Configuration");
        Method factory = cmType.getMethod("getFactoryConfiguration", String.class, String.class, String.class);
        Method single = cmType.getMethod("getConfiguration", String.class, String.class);
        Method update = confType.getMethod("update", Dictionary.class);
        try {
            for (Path f : files) {
                String base = f.getFileName().toString();
                base = base.substring(0, base.length() - ".cfg".length());
                int dash = base.indexOf('-');
                Object conf = dash < 0 ? single.invoke(cm, base, "?")
                        : factory.invoke(cm, base.substring(0, dash), base.substring(dash + 1), "?");
                update.invoke(conf, read(f));
            }
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("Config Admin refused a file of " + dir + ": " + e.getCause(), e.getCause());
        } finally {
            bc.ungetService(ref);
        }
        return files.size();
    }

    private static Dictionary<String, Object> read(Path f) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(f)) {
            p.load(r);
        }
        Hashtable<String, Object> d = new Hashtable<>();
        for (String k : p.stringPropertyNames()) {
            d.put(k, p.getProperty(k).trim());
        }
        return d;
    }
}
