package org.aiolos.nbd.osgi;

import java.util.Set;
import java.util.TreeSet;
import org.aiolos.core.AiolosContext;
import org.aiolos.nbd.NbdServer;
import org.aiolos.nbd.TlsSettings;

/**
 * One listening {@link NbdServer} and the exports it serves. Exports that share an address
 * and port share it (one socket, and NBD_OPT_LIST shows all of them); it runs on one
 * IOThread, so they must share that too. Closed when its last export goes.
 */
final class Listener {
    final String endpoint;
    final String iothread;
    final AiolosContext context;
    final NbdServer server;
    /** Export names, guarded by the {@link NbdExports} lock. */
    final Set<String> exports = new TreeSet<>();

    Listener(String endpoint, String iothread, AiolosContext context, NbdServer server) {
        this.endpoint = endpoint;
        this.iothread = iothread;
        this.context = context;
        this.server = server;
    }

    /** The address and the port actually bound (a configured port 0 is a free one), or {@code unix:PATH}. */
    String bound() {
        return server.socketPath() != null ? "unix:" + server.socketPath() : server.address() + ":" + server.port();
    }

    /** How a client names export {@code name} here (nbd://, nbds://, nbd+unix://, nbds+unix://). */
    String uri(String name) {
        String scheme = server.tls().mode() == TlsSettings.Mode.OFF ? "nbd" : "nbds";
        return server.socketPath() != null ? scheme + "+unix:///" + name + "?socket=" + server.socketPath()
                : scheme + "://" + bound() + "/" + name;
    }
}
