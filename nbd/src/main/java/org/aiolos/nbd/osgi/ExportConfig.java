package org.aiolos.nbd.osgi;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/**
 * The Metatype description of one NBD export's factory configuration (PID
 * {@value NbdExportComponent#FACTORY_PID}): the one place its names, types, bounds, options
 * and defaults are written. bnd turns it into {@code OSGI-INF/metatype}, from which
 * {@link org.aiolos.core.config.MetatypeSchemas} builds the checks every configuration goes
 * through ({@link ExportSettings}), from a file or the shell, before anything is stored or
 * served. {@code $_$} in a method name is a {@code -} in the property name.
 */
@ObjectClassDefinition(name = "Aiolos NBD export",
        description = "A regular file exported over NBD by an IOThread; one configuration per export.")
@interface ExportConfig {

    @AttributeDefinition(description = "The export name clients ask for (nbd://address:port/NAME); unique in the"
            + " container. Empty: the configuration name (the part of the PID after '~').", required = false)
    String name();

    @AttributeDefinition(description = "The image file: an existing regular file. A relative path is resolved"
            + " against the distribution's home (system property aiolos.home), else the working directory.")
    String file();

    @AttributeDefinition(description = "Refuse writes, trims and zero writes (NBD_FLAG_READ_ONLY).",
            required = false)
    boolean read$_$only() default false;

    @AttributeDefinition(description = "Open the file with O_DIRECT (like qemu-nbd --cache=none).", required = false)
    boolean direct() default false;

    @AttributeDefinition(description = "Free text shown to clients (NBD_INFO_DESCRIPTION).", required = false)
    String description() default "";

    @AttributeDefinition(description = "The disk-I/O engine; empty means the IOThread's own (its aio-engine).",
            options = {@Option(label = "the IOThread's engine", value = ""),
                    @Option(label = "threads", value = "threads"), @Option(label = "Linux AIO", value = "native"),
                    @Option(label = "io_uring", value = "io_uring")},
            required = false)
    String engine() default "";

    @AttributeDefinition(description = "The IOThread serving the export (aio:contexts lists them); the export"
            + " waits for it to appear. Exports sharing an address and port share one listener, so they must"
            + " name the same IOThread.")
    String iothread();

    @AttributeDefinition(description = "Further IOThreads that serve the export's connections beside iothread,"
            + " comma-separated (io2,io3): each connection is served by the one with the fewest open connections"
            + " (NBD multi-conn clients then use several threads). One that does not exist (yet) is waited for;"
            + " one that goes has its connections closed, and clients reconnect to the others. Exports sharing"
            + " an address and port must name the same list.", required = false)
    String iothreads() default "";

    @AttributeDefinition(description = "The IPv4 address to listen on (TCP listeners are IPv4 only; an IPv6"
            + " address is refused).", required = false)
    String address() default "127.0.0.1";

    @AttributeDefinition(description = "The TCP port to listen on (10809 is NBD's); 0 picks a free one.",
            min = "0", max = "65535", required = false)
    int port() default 10809;

    @AttributeDefinition(description = "TLS on the listener (NBD_OPT_STARTTLS): off; on (clients may upgrade);"
            + " require (before the upgrade every option but STARTTLS and ABORT is refused, so no export name"
            + " or size leaks). Exports sharing a listener must agree on tls, tls-creds and tls-verify-peer.",
            options = {@Option(label = "off", value = "off"), @Option(label = "on", value = "on"),
                    @Option(label = "require", value = "require")},
            required = false)
    String tls() default "off";

    @AttributeDefinition(description = "The TLS credentials directory in QEMU's tls-creds-x509 layout:"
            + " server-cert.pem, server-key.pem, and ca-cert.pem (needed with tls-verify-peer). Re-read when"
            + " the files change. A relative path is resolved like file.", required = false)
    String tls$_$creds() default "";

    @AttributeDefinition(description = "Clients must present a certificate issued by a CA in ca-cert.pem"
            + " (QEMU's verify-peer).", required = false)
    boolean tls$_$verify$_$peer() default false;

    @AttributeDefinition(description = "Distinguished names of the client certificates that may use this"
            + " export, separated by ';' (e.g. CN=backup,O=Example;CN=admin,O=Example); empty: any certificate"
            + " the CA vouches for. Per export: others on the same listener may list other names; a client not"
            + " on the list is refused (NBD_REP_ERR_POLICY) and does not see the export in a listing. Needs"
            + " tls-verify-peer.", required = false)
    String tls$_$allowed$_$clients() default "";

    @AttributeDefinition(description = "Seconds a client may take from connecting to choosing an export,"
            + " TLS handshake included (qemu-nbd's --handshake-limit); then it is disconnected. 0: no limit."
            + " Exports sharing a listener must agree.", min = "0", max = "3600", required = false)
    int handshake$_$limit() default 10;

    @AttributeDefinition(description = "Connections the listener keeps open at once (qemu-nbd's --shared);"
            + " one more is closed as soon as it is accepted. Each costs about 200 KiB of buffers from its"
            + " accept. 0: no limit. Exports sharing a listener must agree.", min = "0", max = "65535",
            required = false)
    int max$_$connections() default 0;

    @AttributeDefinition(description = "A Unix domain socket to listen on instead of address and port"
            + " (clients: nbd+unix:///NAME?socket=PATH); empty for TCP. A relative path is resolved like file.",
            required = false)
    String socket() default "";

    @AttributeDefinition(description = "The Unix socket file's mode, in octal (0600: only the container's user"
            + " may connect; 0660: its group too).", required = false)
    String socket$_$mode() default "0600";
}
