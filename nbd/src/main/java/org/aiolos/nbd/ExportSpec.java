package org.aiolos.nbd;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * What to export: a regular file under a name.
 *
 * @param name the export name clients ask for: 1 to 4096 bytes of UTF-8 (the NBD limit)
 * @param file an existing regular file, readable (and writable unless {@code readOnly})
 * @param readOnly refuse writes, trims and zero writes with {@code NBD_EPERM}, and
 *     advertise {@code NBD_FLAG_READ_ONLY}
 * @param direct open the file with {@code O_DIRECT} (like {@code qemu-nbd --cache=none});
 *     clients may still send requests at any byte offset and length
 * @param description free text shown to clients ({@code NBD_INFO_DESCRIPTION}); null or
 *     empty for none; at most 4096 bytes of UTF-8
 * @param engine the disk-I/O engine this export prefers ({@code threads}, {@code native},
 *     {@code io_uring}), or null for the context's own ({@code ctx.diskIo()}). The export
 *     then has an engine of its own that follows the providers as the context's does: while
 *     the named one is not available it runs on the best available one, and moves back
 *     when it returns ({@link org.aiolos.core.AiolosContext#openDiskIo})
 * @param allowedClients distinguished names of the client certificates that may use this
 *     export (QEMU's {@code --tls-authz}, per export); empty for every client the listener
 *     admits. Non-empty: the listener must verify client certificates
 *     ({@link TlsSettings#verifyPeer()}), a client without TLS is answered
 *     {@code NBD_REP_ERR_TLS_REQD} for this export, a client whose certificate is not on
 *     the list {@code NBD_REP_ERR_POLICY}, and {@code NBD_OPT_LIST} shows the export only
 *     to the clients on the list. Compared in RFC 2253 canonical form
 *     ({@link TlsSettings#canonicalDn})
 * @since 0.5.0 for {@code allowedClients}
 */
public record ExportSpec(String name, Path file, boolean readOnly, boolean direct, String description,
        String engine, Set<String> allowedClients) {

    /** The longest name or description the protocol carries (NBD_MAX_STRING_SIZE). */
    public static final int MAX_STRING_BYTES = 4096;

    public ExportSpec {
        if (name == null) {
            throw new IllegalArgumentException("name must not be null");
        }
        int nameBytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (nameBytes < 1 || nameBytes > MAX_STRING_BYTES) {
            throw new IllegalArgumentException(
                    "name must be 1.." + MAX_STRING_BYTES + " bytes of UTF-8, got " + nameBytes + " bytes");
        }
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("name must not contain NUL characters");
        }
        if (file == null) {
            throw new IllegalArgumentException("file must not be null");
        }
        if (!Files.exists(file)) {
            throw new IllegalArgumentException("file " + file + " does not exist");
        }
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("file " + file + " is not a regular file");
        }
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException("file " + file + " is not readable");
        }
        if (!readOnly && !Files.isWritable(file)) {
            throw new IllegalArgumentException("file " + file + " is not writable (export it read-only?)");
        }
        if (engine != null && engine.isBlank()) {
            engine = null;
        }
        if (description != null && description.getBytes(StandardCharsets.UTF_8).length > MAX_STRING_BYTES) {
            throw new IllegalArgumentException("description must be at most " + MAX_STRING_BYTES + " bytes of UTF-8");
        }
        allowedClients = allowedClients == null ? Set.of() : TlsSettings.canonical(allowedClients);
    }

    /** An export any client the listener admits may use. */
    public ExportSpec(String name, Path file, boolean readOnly, boolean direct, String description, String engine) {
        this(name, file, readOnly, direct, description, engine, Set.of());
    }

    /** This export, open only to the client certificates named (see {@link #allowedClients()}). */
    public ExportSpec withAllowedClients(Set<String> dns) {
        return new ExportSpec(name, file, readOnly, direct, description, engine, dns);
    }

    /**
     * Whether a client may use this export.
     *
     * @param clientDn the client certificate's subject in RFC 2253 canonical form, or null
     *     when the client has no verified certificate (no TLS, or none asked for)
     */
    public boolean admits(String clientDn) {
        return allowedClients.isEmpty() || (clientDn != null && allowedClients.contains(clientDn));
    }

    /** A writable export on the context's own engine, without O_DIRECT or description. */
    public static ExportSpec of(String name, Path file) {
        return new ExportSpec(name, file, false, false, null, null);
    }
}
