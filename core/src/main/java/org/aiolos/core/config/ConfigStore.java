package org.aiolos.core.config;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.Map;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Where the shell's configuration changes go: Config Admin, and the {@code .cfg} file in
 * the folder FileInstall watches ({@value #FOLDER_PROPERTY}), so that the files stay the
 * truth and a change outlives a restart. A change is {@link #store}d in Config Admin
 * first; once the component has applied it the file is {@link #commit}ted, and if the
 * component refused it the previous configuration is put back ({@link #rollback}), so a
 * rejected change is never left stored. Without a watched folder (no FileInstall) changes
 * live in Config Admin's store alone.
 *
 * <p>A configuration that came from a file keeps its file ({@value #FILENAME}); a new one,
 * or one another client made, gets {@code <factoryPid>-<name>.cfg}, the name FileInstall
 * reads back as the same factory configuration.
 */
public final class ConfigStore {
    /** The framework property naming the folder FileInstall watches. */
    public static final String FOLDER_PROPERTY = "felix.fileinstall.dir";
    /** The property FileInstall puts in a configuration that came from a file. */
    public static final String FILENAME = "felix.fileinstall.filename";
    /**
     * The longest name a configuration may have: its {@code .cfg} file and Config Admin's
     * stored copy are named after it, and a file name has at most 255 bytes (a 300-character
     * export name failed in Config Admin's store with a rename error).
     */
    public static final int MAX_NAME_LENGTH = 200;
    /**
     * What an IOThread or export name may hold: it goes into file names and LDAP filters.
     * Not starting with '.' or '-': '..' made conf/org.aiolos.iothread-...cfg and an
     * IOThread named '..', and such names read as hidden files, paths or options.
     */
    public static final String NAME_PATTERN = "[A-Za-z0-9_][A-Za-z0-9_.-]*";
    /** What {@link #NAME_PATTERN} says, for messages. */
    public static final String NAME_RULE = "must be ASCII letters, digits, '_', '.' or '-', not starting with '.' or"
            + " '-'";

    /**
     * Null when {@code name} may name an IOThread or export in a configuration; otherwise
     * the error, for {@code field} ({@code "name"}, {@code "iothread"}).
     */
    public static String nameError(String field, String name) {
        if (!name.matches(NAME_PATTERN)) {
            return field + ": " + NAME_RULE + ", got '" + name + "'";
        }
        return name.length() <= MAX_NAME_LENGTH ? null : field + ": at most " + MAX_NAME_LENGTH
                + " characters in a configuration (its .cfg file is named after it), got " + name.length();
    }

    /**
     * {@link #nameError} for a configuration's {@code name}: one the configuration does not
     * give (taken from its PID, that is its .cfg file's name) says so and how to mend it.
     */
    public static String configurationNameError(String name, boolean givenAsNameKey) {
        String e = nameError("name", name);
        return e == null || givenAsNameKey ? e : e + " (taken from the configuration's PID, as it has no name=;"
                + " set name= or rename its .cfg file)";
    }

    private final ConfigurationAdmin cm;
    private final String factoryPid;
    private final Path folder;

    /** What {@link #store} replaced, so that it can be committed or put back. */
    public record Stored(Configuration configuration, String name, Map<String, Object> previous,
                         Map<String, Object> stored, Path file) {
    }

    /**
     * @param folder the watched folder; null to keep configurations in Config Admin only
     */
    @SuppressWarnings("exports")
    public ConfigStore(ConfigurationAdmin cm, String factoryPid, Path folder) {
        this.cm = cm;
        this.factoryPid = factoryPid;
        this.folder = folder;
    }

    /** The folder FileInstall watches in this framework, or null when none is set. */
    @SuppressWarnings("exports")
    public static Path watchedFolder(BundleContext bc) {
        String dir = bc.getProperty(FOLDER_PROPERTY);
        return dir == null || dir.isBlank() ? null : Path.of(dir).toAbsolutePath().normalize();
    }

    /** The configuration's own properties, without the framework's and FileInstall's. */
    @SuppressWarnings("exports")
    public static Map<String, Object> userProperties(Configuration c) {
        Map<String, Object> out = new LinkedHashMap<>();
        Dictionary<String, Object> d = c == null ? null : c.getProperties();
        if (d != null) {
            for (String k : Collections.list(d.keys())) {
                if (!ConfigSchema.infrastructure(k)) {
                    out.put(k, d.get(k));
                }
            }
        }
        return out;
    }

    /**
     * The configuration a command would write as {@code name} when it configures another
     * name, else null. A configuration is created under the PID {@code factoryPid~name},
     * the one FileInstall gives the file {@code factoryPid-name.cfg}; when that file (or
     * {@code found}, the configuration the command found for {@code name}) holds another
     * {@code name=}, writing it would rename what it configures.
     */
    @SuppressWarnings("exports")
    public Configuration namedOtherwise(Configuration found, String name) throws IOException, InvalidSyntaxException {
        Configuration c = found;
        if (c == null) {
            Configuration[] underPid = cm.listConfigurations("(service.pid=" + factoryPid + "~" + name + ")");
            c = underPid == null || underPid.length == 0 ? null : underPid[0];
        }
        Object other = c == null ? null : userProperties(c).get("name");
        return other == null || other.equals(name) ? null : c;
    }

    /** {@code <file> configures <what> '<name>' (name=<name>)}, for messages about {@code c}. */
    @SuppressWarnings("exports")
    public static String whatItConfigures(Configuration c, String what) {
        Object file = c.getProperties().get(FILENAME);
        Object name = userProperties(c).get("name");
        return (file == null ? "configuration " + c.getPid() : file.toString()) + " configures " + what + " '" + name
                + "' (name=" + name + ")";
    }

    /**
     * Null when {@code found} may be stored as {@code name}; otherwise the error, for the
     * {@code name} field ({@link #namedOtherwise}).
     *
     * @param what {@code IOThread} or {@code export}, for the message
     * @param change the command that changes the other one, before its name
     */
    @SuppressWarnings("exports")
    public String renames(Configuration found, String name, String what, String change)
            throws IOException, InvalidSyntaxException {
        Configuration c = namedOtherwise(found, name);
        if (c == null) {
            return null;
        }
        return "name: " + whatItConfigures(c, what) + ", and '" + name + "' would rename it; change that one with "
                + change + " " + userProperties(c).get("name") + ", or choose a name no configuration file is named"
                + " after";
    }

    /**
     * Stores checked properties: in Config Admin now, in the file at {@link #commit}.
     *
     * @param existing the configuration to update; null to create {@code name}'s
     * @param name the configuration's name (the file's name after the factory PID)
     * @throws RefusedException when the file could not be written; nothing is stored then
     */
    @SuppressWarnings("exports")
    public Stored store(Configuration existing, String name, Map<String, Object> props) throws IOException {
        Configuration c = existing != null ? existing : cm.getFactoryConfiguration(factoryPid, name, "?");
        Map<String, Object> previous = existing == null ? null : all(existing);
        Path file = fileOf(previous, name);
        if (file != null) {
            SaveCheck.writable(file, "save"); // before Config Admin: an unsaved change would be lost at the next start
        }
        Hashtable<String, Object> next = new Hashtable<>(props);
        if (file != null) {
            next.put(FILENAME, file.toUri().toString());
        }
        c.update(next);
        return new Stored(c, name, previous, Map.copyOf(next), file);
    }

    /**
     * Writes the stored properties to the configuration's file (comments kept). If that
     * fails after all (the folder changed since {@link #store} checked it), the change is
     * put back and refused, so that nothing is applied that a restart would undo.
     *
     * @throws RefusedException when the file cannot be written; the previous configuration is back
     */
    public void commit(Stored s) throws IOException {
        if (s.file() != null) {
            try {
                CfgFile.write(s.file(), s.stored(), "Written by the Aiolos shell; edit freely, Aiolos applies changes live.");
            } catch (IOException e) {
                rollback(s);
                throw SaveCheck.refused(s.file(), "save", e, "nothing changed (the change is undone)");
            }
        }
    }

    /** Puts the previous configuration back: the old properties, or none for a new one. */
    public void rollback(Stored s) throws IOException {
        if (s.previous() == null) {
            s.configuration().delete();
        } else {
            s.configuration().update(new Hashtable<>(s.previous()));
        }
    }

    /**
     * Deletes the configuration and its file.
     *
     * @throws RefusedException when the file cannot be deleted; nothing changed then
     */
    @SuppressWarnings("exports")
    public void delete(Configuration c) throws IOException {
        Path file = fileOf(all(c), null);
        if (file != null && Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            // A configuration deleted while its file stays comes back at the next start.
            SaveCheck.writable(file, "delete");
        }
        c.delete();
        if (file != null) {
            // After the configuration, so FileInstall, seeing the file go, finds nothing left to delete.
            Files.deleteIfExists(file);
        }
    }

    private static Map<String, Object> all(Configuration c) {
        Map<String, Object> m = new LinkedHashMap<>();
        Dictionary<String, Object> d = c.getProperties();
        if (d != null) {
            for (String k : Collections.list(d.keys())) {
                m.put(k, d.get(k));
            }
        }
        return m;
    }

    /** The file a configuration has, or the one a new one gets; null without a folder. */
    private Path fileOf(Map<String, Object> props, String name) {
        Object known = props == null ? null : props.get(FILENAME);
        if (known != null) {
            try {
                return Path.of(URI.create(known.toString()));
            } catch (IllegalArgumentException e) {
                // not a file URI: treat it as a configuration without a file
            }
        }
        return folder == null || name == null ? null : folder.resolve(factoryPid + "-" + name + ".cfg");
    }
}
