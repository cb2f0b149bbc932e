package org.aiolos.nbd.osgi;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.nbd.ExportSpec;

/**
 * One export's validated settings, parsed from configuration properties. Everything is
 * checked before anything is applied, so an update is taken whole or not at all; the first
 * bad field is named at the start of the {@link IllegalArgumentException}'s message
 * ({@code "port: ..."}), as the IOThread configurations do.
 */
record ExportSettings(String name, Path file, boolean readOnly, boolean direct, String description, String engine,
                      String iothread, String address, int port) {

    static final String DEFAULT_ADDRESS = "127.0.0.1";
    static final int DEFAULT_PORT = 10809;
    static final Set<String> ENGINES = Set.of("", DiskIoEngineFactory.THREADS, DiskIoEngineFactory.NATIVE,
            DiskIoEngineFactory.IO_URING);
    private static final String NAME_PATTERN = "[A-Za-z0-9_.-]+";

    /** Where the listener is: exports with equal endpoints share one. */
    String endpoint() {
        return address + ":" + port;
    }

    /**
     * @param props configuration properties; values may be strings (files, the shell) or typed
     * @param defaultName the export name when the configuration has none
     * @param home the folder a relative {@code file} is resolved against
     * @throws IllegalArgumentException naming the first bad field
     */
    static ExportSettings parse(Map<String, ?> props, String defaultName, Path home) {
        String name = text(props, "name", defaultName);
        if (name.isEmpty() || !name.matches(NAME_PATTERN)) {
            throw new IllegalArgumentException("name: must be letters, digits, '_', '.' or '-', got '" + name + "'");
        }
        Path file = file(text(props, "file", ""), home);
        boolean readOnly = flag(props, "read-only");
        boolean direct = flag(props, "direct");
        String description = text(props, "description", "");
        String engine = text(props, "engine", "");
        if (!ENGINES.contains(engine)) {
            throw new IllegalArgumentException("engine: must be empty (the IOThread's), threads, native or io_uring,"
                    + " got '" + engine + "'");
        }
        String iothread = text(props, "iothread", "");
        if (iothread.isEmpty()) {
            throw new IllegalArgumentException("iothread: required: the name of the IOThread to serve on"
                    + " (aio:contexts lists them)");
        }
        if (!iothread.matches(NAME_PATTERN)) {
            throw new IllegalArgumentException("iothread: must be letters, digits, '_', '.' or '-', got '"
                    + iothread + "'");
        }
        String address = text(props, "address", DEFAULT_ADDRESS);
        if (address.isEmpty()) {
            throw new IllegalArgumentException("address: must not be empty (" + DEFAULT_ADDRESS + " by default)");
        }
        int port = port(props.get("port"));
        ExportSettings s = new ExportSettings(name, file, readOnly, direct, description, engine, iothread, address,
                port);
        s.toSpec(); // ExportSpec's own checks (readable, writable, lengths) before anything runs
        return s;
    }

    /** The server's view. */
    ExportSpec toSpec() {
        try {
            return new ExportSpec(name, file, readOnly, direct, description.isEmpty() ? null : description,
                    engine.isEmpty() ? null : engine);
        } catch (IllegalArgumentException e) {
            // ExportSpec names its field first ("file ... is not writable"); keep that field
            // as the prefix, in this class's "field: ..." form.
            String m = e.getMessage();
            String field = m.startsWith("file") ? "file" : m.startsWith("description") ? "description" : "name";
            throw new IllegalArgumentException(field + ": " + m, e);
        }
    }

    private static Path file(String value, Path home) {
        if (value.isEmpty()) {
            throw new IllegalArgumentException("file: required: the image file to export");
        }
        Path p;
        try {
            p = Path.of(value);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("file: not a path: '" + value + "'", e);
        }
        p = (p.isAbsolute() ? p : home.resolve(p)).normalize();
        if (!Files.exists(p)) {
            throw new IllegalArgumentException("file: " + p + " does not exist");
        }
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException("file: " + p + " is not a regular file");
        }
        return p;
    }

    private static int port(Object v) {
        if (v == null || v.toString().isBlank()) {
            return DEFAULT_PORT;
        }
        long n;
        if (v instanceof Number num && !(v instanceof Double) && !(v instanceof Float)) {
            n = num.longValue();
        } else {
            try {
                n = Long.parseLong(v.toString().trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("port: not an integer: '" + v + "'", e);
            }
        }
        if (n < 0 || n > 65535) {
            throw new IllegalArgumentException("port: must be 0..65535 (0 picks a free one), got " + n);
        }
        return (int) n;
    }

    private static boolean flag(Map<String, ?> props, String key) {
        Object v = props.get(key);
        if (v == null || v instanceof Boolean) {
            return v != null && (Boolean) v;
        }
        String s = v.toString().trim();
        if (s.isEmpty() || s.equalsIgnoreCase("false")) {
            return false;
        }
        if (s.equalsIgnoreCase("true")) {
            return true;
        }
        throw new IllegalArgumentException(key + ": must be true or false, got '" + s + "'");
    }

    private static String text(Map<String, ?> props, String key, String dflt) {
        Object v = props.get(key);
        return v == null ? dflt : v.toString().trim();
    }

    @Override
    public String toString() {
        return "name=" + name + " file=" + file + " read-only=" + readOnly + " direct=" + direct + " engine="
                + (engine.isEmpty() ? "(the IOThread's)" : engine) + " iothread=" + iothread + " address=" + address
                + " port=" + port;
    }
}
