package org.aiolos.nbd.osgi;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.aiolos.core.AiolosContext;
import org.aiolos.nbd.NbdServer;
import org.aiolos.nbd.TlsSettings;

/**
 * One listening {@link NbdServer} and the exports it serves. Exports that share an address
 * and port share it (one socket, and NBD_OPT_LIST shows all of them); it runs on one
 * IOThread, so they must share that too, and the further IOThreads that serve their
 * connections ({@code iothreads}). Closed when its last export goes.
 */
final class Listener {
    final String endpoint;
    final String iothread;
    final AiolosContext context;
    final NbdServer server;
    /** The further IOThreads its exports name, in order. */
    final List<String> iothreads;
    /** Those of them serving now, by name; guarded by the {@link NbdExports} lock. */
    final Map<String, AiolosContext> serving = new LinkedHashMap<>();
    /** {@link #servingNames()}: written under the {@link NbdExports} lock, read by the shell. */
    private volatile String servingNames;
    /** Export names, guarded by the {@link NbdExports} lock. */
    final Set<String> exports = new TreeSet<>();
    /** Seconds a client may negotiate (handshake-limit); every export here names the same. */
    final int handshakeLimitSeconds;
    /** The Unix socket file's mode (socket-mode; unused for TCP); every export here names the same. */
    final int socketMode;
    /** Connections open at once (max-connections, 0: no limit); every export here names the same. */
    final int maxConnections;

    Listener(String endpoint, String iothread, List<String> iothreads, AiolosContext context, NbdServer server,
            int handshakeLimitSeconds, int socketMode, int maxConnections) {
        this.handshakeLimitSeconds = handshakeLimitSeconds;
        this.socketMode = socketMode;
        this.maxConnections = maxConnections;
        this.endpoint = endpoint;
        this.iothread = iothread;
        this.iothreads = List.copyOf(iothreads);
        this.servingNames = iothread;
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

    /** The IOThreads serving connections now ({@code io1,io2}): its own first, then the further ones present. */
    String servingNames() {
        return servingNames;
    }

    /** After {@link #serving} changed; under the {@link NbdExports} lock. */
    void servingChanged() {
        StringBuilder b = new StringBuilder(iothread);
        for (String n : serving.keySet()) {
            b.append(',').append(n);
        }
        servingNames = b.toString();
    }
}
