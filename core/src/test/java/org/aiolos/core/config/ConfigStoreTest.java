package org.aiolos.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * A shell change to a configuration whose {@code .cfg} file cannot be written changes
 * nothing: it is refused before Config Admin sees it (it used to be applied live, the
 * file write failing after, and the change gone at the next start).
 */
class ConfigStoreTest {
    private static final String FACTORY = "org.aiolos.iothread";
    @TempDir
    Path dir;
    private final List<String> calls = new ArrayList<>();
    private final Dictionary<String, Object> stored = new Hashtable<>();
    private boolean locked;

    @AfterEach
    void unlock() throws Exception {
        if (locked) {
            lock("-i");
        }
    }

    @Test
    void aChangeThatCannotBeSavedIsRefusedBeforeItIsStored() throws Exception {
        ConfigStore store = new ConfigStore(configAdmin(), FACTORY, dir);
        makeUnwritable();
        RefusedException e = assertThrows(RefusedException.class, () -> store.store(null, "z1", Map.of("name", "z1")));
        assertTrue(e.getMessage().startsWith("cannot save " + dir.resolve(FACTORY + "-z1.cfg") + ": ")
                && e.getMessage().endsWith("; nothing changed"), e.getMessage());
        assertEquals(List.of(), calls, "Config Admin was not asked to change anything");
    }

    @Test
    void aDeleteWhoseFileCannotGoIsRefusedBeforeTheConfigurationGoes() throws Exception {
        Path file = Files.writeString(dir.resolve(FACTORY + "-y4.cfg"), "name=y4\n");
        stored.put("name", "y4");
        stored.put(ConfigStore.FILENAME, file.toUri().toString());
        ConfigStore store = new ConfigStore(configAdmin(), FACTORY, dir);
        makeUnwritable();
        RefusedException e = assertThrows(RefusedException.class, () -> store.delete(configuration()));
        assertTrue(e.getMessage().startsWith("cannot delete " + file + ": "), e.getMessage());
        assertEquals(List.of(), calls, "the configuration was not deleted");
        assertTrue(Files.exists(file));
    }

    /** chattr +i as root (who may write anywhere else), else the permission bits. */
    private void makeUnwritable() throws Exception {
        if ("root".equals(System.getProperty("user.name"))) {
            locked = lock("+i");
        } else {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
        }
        boolean writable;
        try {
            Files.delete(Files.createFile(dir.resolve("probe")));
            writable = true;
        } catch (IOException expected) {
            writable = false;
        }
        Assumptions.assumeFalse(writable, "cannot make " + dir + " unwritable here");
    }

    private boolean lock(String flag) throws Exception {
        return new ProcessBuilder("chattr", flag, dir.toString()).inheritIO().start().waitFor() == 0;
    }

    private ConfigurationAdmin configAdmin() {
        return proxy(ConfigurationAdmin.class, (name, args) -> switch (name) {
            case "getFactoryConfiguration" -> configuration();
            default -> throw new UnsupportedOperationException(name);
        });
    }

    private Configuration configuration() {
        return proxy(Configuration.class, (name, args) -> switch (name) {
            case "getProperties" -> stored;
            case "getPid" -> FACTORY + "~y4";
            default -> {
                calls.add(name);
                yield null;
            }
        });
    }

    private interface Call {
        Object answer(String method, Object[] args);
    }

    private static <T> T proxy(Class<T> type, Call call) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (p, m, a) -> {
            if (m.getDeclaringClass() == Object.class) {
                return m.getName().equals("toString") ? type.getSimpleName() : m.getName().equals("hashCode")
                        ? System.identityHashCode(p) : p == a[0];
            }
            return call.answer(m.getName(), a);
        }));
    }
}
