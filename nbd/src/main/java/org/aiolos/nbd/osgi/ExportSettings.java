package org.aiolos.nbd.osgi;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.aiolos.core.config.ConfigSchema;
import org.aiolos.core.config.ConfigStore;
import org.aiolos.core.config.InvalidConfigurationException;
import org.aiolos.nbd.ExportSpec;
import org.aiolos.nbd.TlsSettings;

/**
 * One export's validated settings, parsed from configuration properties. Everything is
 * checked before anything is applied, so an update is taken whole or not at all: first
 * against the Metatype ({@link ExportConfig}, as a {@link ConfigSchema}: unknown keys,
 * types, bounds, options, defaults), then the rules of the fields' contents (the file
 * exists, names are well formed); every error is in the
 * {@link InvalidConfigurationException}, each starting with its field ({@code "port: ..."}).
 */
record ExportSettings(String name, Path file, boolean readOnly, boolean direct, String description, String engine,
                      String iothread, String address, int port, TlsSettings tls, Path socket, int socketMode,
                      List<String> iothreads, int handshakeLimitSeconds, int maxConnections) {

    ExportSettings {
        iothreads = List.copyOf(iothreads);
    }

    /** Where the listener is: exports with equal endpoints share one. */
    String endpoint() {
        return socket != null ? "unix:" + socket : address + ":" + port;
    }

    /**
     * @param schema the export configuration's Metatype
     * @param props configuration properties; values may be strings (files, the shell) or typed
     * @param defaultName the export name when the configuration has none
     * @param home the folder a relative {@code file} is resolved against
     * @throws InvalidConfigurationException with every error
     */
    static ExportSettings parse(ConfigSchema schema, Map<String, ?> props, String defaultName, Path home) {
        ConfigSchema.Checked c = schema.check(props);
        List<String> errors = new ArrayList<>(c.errors());
        String name = c.has("name") ? (String) c.get("name") : defaultName;
        String badName = ConfigStore.configurationNameError(name, c.has("name"));
        if (badName != null) {
            errors.add(badName);
        }
        Path file = c.has("file") ? file((String) c.get("file"), home, errors) : null;
        String iothread = (String) c.get("iothread");
        String badIothread = iothread == null ? null : ConfigStore.nameError("iothread", iothread);
        if (badIothread != null) {
            errors.add(badIothread);
        }
        List<String> iothreads = iothreads((String) c.get("iothreads"), iothread, errors);
        TlsSettings tls = tls(c, home, errors);
        Path socket = null;
        String socketValue = (String) c.get("socket");
        if (socketValue != null && !socketValue.isBlank()) {
            try {
                Path p = Path.of(socketValue.trim());
                socket = (p.isAbsolute() ? p : home.resolve(p)).normalize();
                if (socket.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 107) {
                    errors.add("socket: " + socket + " is longer than the 107 bytes a Unix socket path may have");
                }
            } catch (InvalidPathException e) {
                errors.add("socket: not a path: '" + socketValue + "'");
            }
        }
        String address = (String) c.get("address");
        if (socket == null && address != null && address.contains(":")) {
            // Only an IPv6 literal has a colon: the TCP listener is AF_INET, so it could never
            // bind it, and trying again every few seconds would wait forever.
            errors.add("address: " + address + " is an IPv6 address; TCP listeners are IPv4 only (an IPv4 address"
                    + " such as 127.0.0.1, or socket= for a local export)");
        }
        int socketMode = 0600;
        String modeValue = (String) c.get("socket-mode");
        if (modeValue != null && !modeValue.isBlank()) {
            if (modeValue.trim().matches("0?[0-7]{1,3}")) {
                socketMode = Integer.parseInt(modeValue.trim(), 8);
            } else {
                errors.add("socket-mode: must be an octal mode 0..0777 (e.g. 0600), got '" + modeValue + "'");
            }
        }
        if (!errors.isEmpty()) {
            throw new InvalidConfigurationException(null, errors);
        }
        ExportSettings s = new ExportSettings(name, file, (Boolean) c.get("read-only"), (Boolean) c.get("direct"),
                (String) c.get("description"), (String) c.get("engine"), iothread, address,
                (Integer) c.get("port"), tls, socket, socketMode, iothreads, (Integer) c.get("handshake-limit"),
                (Integer) c.get("max-connections"));
        try {
            s.toSpec(); // ExportSpec's own checks (readable, writable, lengths) before anything runs
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigurationException(null, List.of(e.getMessage())); // "<field>: ..." like the rest
        }
        return s;
    }

    /** The server's view. */
    ExportSpec toSpec() {
        try {
            return new ExportSpec(name, file, readOnly, direct, description.isEmpty() ? null : description,
                    engine.isEmpty() ? null : engine, tls.allowedClients());
        } catch (IllegalArgumentException e) {
            // ExportSpec names its field first ("file ... is not writable"); keep that field
            // as the prefix, in this class's "field: ..." form.
            String m = e.getMessage();
            String field = m.startsWith("file") ? "file" : m.startsWith("description") ? "description" : "name";
            String rest = m.startsWith(field + " ") ? m.substring(field.length() + 1) : m; // not "file: file ..."
            throw new IllegalArgumentException(field + ": " + rest, e);
        }
    }

    /**
     * The further serving IOThreads: names separated by commas (blanks around them allowed),
     * in order, without {@code iothread} itself (naming it is allowed: it serves anyway).
     */
    private static List<String> iothreads(String value, String iothread, List<String> errors) {
        List<String> out = new ArrayList<>();
        if (value == null || value.isBlank()) {
            return out;
        }
        for (String part : value.split(",", -1)) {
            String n = part.strip();
            if (!n.matches(ConfigStore.NAME_PATTERN)) {
                errors.add("iothreads: each name " + ConfigStore.NAME_RULE + ", got '" + n + "' in '"
                        + value + "'");
            } else if (out.contains(n)) {
                errors.add("iothreads: '" + n + "' is named twice in '" + value + "'");
            } else if (!n.equals(iothread)) {
                out.add(n);
            }
        }
        return out;
    }

    /**
     * The listener's TLS: mode, credentials and verify-peer, which every export on the
     * listener must agree on. The allow-list is the export's own ({@link #toSpec()}): it is
     * checked when the client names the export, so exports sharing a listener may differ.
     */
    TlsSettings listenerTls() {
        return new TlsSettings(tls.mode(), tls.credentials(), tls.verifyPeer(), Set.of());
    }

    /** Every IOThread serving connections: {@code iothread} first, then the others. */
    List<String> servingIothreads() {
        List<String> all = new ArrayList<>();
        all.add(iothread);
        all.addAll(iothreads);
        return all;
    }

    /** The listener's TLS from tls, tls-creds, tls-verify-peer and tls-allowed-clients; null after an error. */
    private static TlsSettings tls(ConfigSchema.Checked c, Path home, List<String> errors) {
        TlsSettings.Mode mode;
        try {
            mode = TlsSettings.Mode.parse((String) c.get("tls"));
        } catch (IllegalArgumentException e) {
            errors.add("tls: " + e.getMessage());
            return null;
        }
        String credsValue = (String) c.get("tls-creds");
        Path creds = null;
        if (credsValue != null && !credsValue.isBlank()) {
            try {
                Path p = Path.of(credsValue.trim());
                creds = (p.isAbsolute() ? p : home.resolve(p)).normalize();
            } catch (InvalidPathException e) {
                errors.add("tls-creds: not a path: '" + credsValue + "'");
                return null;
            }
        }
        Set<String> allowed = new LinkedHashSet<>();
        String list = (String) c.get("tls-allowed-clients");
        if (list != null) {
            for (String dn : list.split(";")) {
                if (!dn.isBlank()) {
                    try {
                        allowed.add(TlsSettings.canonicalDn(dn.trim()));
                    } catch (IllegalArgumentException e) {
                        errors.add("tls-allowed-clients: " + e.getMessage());
                        return null;
                    }
                }
            }
        }
        boolean verifyPeer = Boolean.TRUE.equals(c.get("tls-verify-peer"));
        try {
            return new TlsSettings(mode, creds, verifyPeer, allowed);
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            String field = m.contains("allow-list") ? "tls-allowed-clients" : m.startsWith("verify-peer")
                    ? "tls-verify-peer" : "tls-creds";
            errors.add(field + ": " + m);
            return null;
        }
    }

    private static final String DOES_NOT_EXIST = " does not exist";

    /**
     * Whether every error of {@code ex} is that the image does not exist: the one rejection
     * that the file appearing mends without an edit of the configuration.
     */
    static boolean onlyMissingFile(IllegalArgumentException ex) {
        return ex instanceof InvalidConfigurationException ice && ice.errors().stream()
                .allMatch(m -> m.startsWith("file: ") && m.endsWith(DOES_NOT_EXIST));
    }

    private static Path file(String value, Path home, List<String> errors) {
        Path p;
        try {
            p = Path.of(value);
        } catch (InvalidPathException e) {
            errors.add("file: not a path: '" + value + "'");
            return null;
        }
        p = (p.isAbsolute() ? p : home.resolve(p)).normalize();
        if (!Files.exists(p)) {
            errors.add("file: " + p + DOES_NOT_EXIST);
        } else if (!Files.isRegularFile(p)) {
            errors.add("file: " + p + " is not a regular file");
        }
        return p;
    }

    @Override
    public String toString() {
        return "name=" + name + " file=" + file + " read-only=" + readOnly + " direct=" + direct + " engine="
                + (engine.isEmpty() ? "(the IOThread's)" : engine) + " iothread=" + iothread
                + (iothreads.isEmpty() ? "" : " iothreads=" + String.join(",", iothreads))
                + (socket != null ? " socket=" + socket + " socket-mode=0" + Integer.toOctalString(socketMode)
                : " address=" + address + " port=" + port) + " tls=" + tls.mode() + (tls.credentials() == null ? "" : " tls-creds="
                + tls.credentials()) + (tls.verifyPeer() ? " tls-verify-peer" : "") + (tls.allowedClients().isEmpty()
                ? "" : " tls-allowed-clients=" + String.join(";", tls.allowedClients())) + " handshake-limit="
                + handshakeLimitSeconds + " max-connections=" + maxConnections;
    }
}
