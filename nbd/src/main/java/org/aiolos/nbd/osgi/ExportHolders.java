package org.aiolos.nbd.osgi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Which configuration held each export name and each writable image, kept in the bundle's
 * data area so that it outlives a restart. At start Config Admin hands the configurations
 * over in an order of its own, not in the order they were made: without this record a
 * configuration that had been refused for a name or an image another one served could come
 * first and take it, and clients of that name would get another disk. With it, the holder
 * keeps what it held: a configuration asking for a name or an image recorded for another
 * configuration that still exists is refused until that one has come and gone.
 *
 * <p>Not thread-safe: {@link NbdExports} calls it under its lock.
 */
final class ExportHolders {
    private static final System.Logger LOG = System.getLogger("org.aiolos.nbd");
    private static final String NAME = "name:";
    private static final String FILE = "file:";

    /** Null when the framework gives no data area: then nothing is remembered across restarts. */
    private final Path store;
    /** "name:NAME" or "file:PATH" to the PID of the configuration that holds it. */
    private final Map<String, String> holders = new TreeMap<>();

    ExportHolders(Path store) {
        this.store = store;
        if (store != null && Files.isRegularFile(store)) {
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(store)) {
                p.load(in);
                p.stringPropertyNames().forEach(k -> holders.put(k, p.getProperty(k)));
            } catch (IOException | IllegalArgumentException e) {
                LOG.log(System.Logger.Level.WARNING, "NBD export holders {0} unreadable ({1}); clashes at this"
                        + " start go to the configuration that comes first", store, e.toString());
            }
        }
    }

    /** {@code pid} now holds the name of {@code s}, and its image when it writes to it. */
    void record(String pid, ExportSettings s) {
        Map<String, String> before = new TreeMap<>(holders);
        holders.values().removeIf(pid::equals);
        holders.put(NAME + s.name(), pid);
        if (!s.readOnly()) {
            holders.put(FILE + s.file(), pid);
        }
        if (!holders.equals(before)) {
            save();
        }
    }

    /** {@code pid} holds nothing any more (its configuration was deleted, or is malformed now). */
    void forget(String pid) {
        if (holders.values().removeIf(pid::equals)) {
            save();
        }
    }

    /**
     * Why {@code pid} may not take what {@code s} asks for: the name or (for a writable
     * export) the image is recorded for another configuration that has not been applied
     * since the start but still exists; null when nothing stands in the way. A record whose
     * configuration is gone is dropped.
     *
     * @param applied whether a configuration has been applied since the start (it then
     *     clashes as a served export does, and the record is not needed)
     * @param exists whether a configuration of that PID is still in Config Admin
     */
    String reservedFor(String pid, ExportSettings s, Predicate<String> applied, Predicate<String> exists) {
        String why = reserved(pid, NAME + s.name(), "name: export '" + s.name() + "'", applied, exists);
        if (why == null && !s.readOnly()) {
            why = reserved(pid, FILE + s.file(), "file: " + s.file() + ", exported writable,", applied, exists);
        }
        return why;
    }

    private String reserved(String pid, String key, String what, Predicate<String> applied,
                            Predicate<String> exists) {
        String holder = holders.get(key);
        if (holder == null || holder.equals(pid) || applied.test(holder)) {
            return null;
        }
        if (!exists.test(holder)) {
            holders.remove(key);
            save();
            return null;
        }
        return what + " was held by configuration " + holder + " before the restart, which keeps it";
    }

    /** Written whole to a temporary file and moved over the old one, so a crash leaves one or the other. */
    private void save() {
        if (store == null) {
            return;
        }
        Properties p = new Properties();
        p.putAll(holders);
        try {
            Path tmp = store.resolveSibling(store.getFileName() + ".tmp");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                p.store(out, "NBD export names and writable images, by the configuration holding them");
            }
            Files.move(tmp, store, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "NBD export holders: cannot write {0} ({1}); after a restart a"
                    + " clash goes to the configuration that comes first", store, e.toString());
        }
    }
}
