package org.aiolos.nbd;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.aiolos.api.IOThread;
import org.aiolos.api.PollParams;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.ContextOptions;

/**
 * A standalone NBD server for benchmarks and manual use (like {@code qemu-nbd}); the
 * command line is {@link #USAGE}. Every option takes its value either as the next
 * argument ({@code --port 10810}) or after {@code =} ({@code --port=10810}).
 *
 * <p>It starts an IOThread (or {@code --iothreads N} of them, which share the connections),
 * prints {@code listening on A:P export N (engine E, fdmon M)} (with {@code , iothreads N}
 * when more than one) and serves until killed; SIGTERM/SIGINT close the server and the IOThread. {@code --help}
 * prints the usage to stdout and exits 0; a bad argument prints what was wrong and the
 * usage to stderr and exits 2; a server that cannot start exits 1.
 */
public final class NbdMain {
    /** What {@code --help} prints. */
    static final String USAGE = """
            usage: NbdMain --file FILE --name NAME [options]
            Serves FILE over NBD as the export NAME (nbd://ADDRESS:PORT/NAME) until killed.
              --file FILE            the image: an existing regular file (required)
              --name NAME            the export name clients ask for (required)
              --address ADDRESS      the address to listen on (default 127.0.0.1)
              --port PORT            the TCP port, 0..65535; 0 picks a free one (default 10809)
              --socket PATH          listen on a Unix domain socket instead (nbd+unix:///NAME?socket=PATH)
              --socket-mode MODE     the socket file's mode, octal (default 0600)
              --read-only            refuse writes, trims and zero writes
              --direct               open FILE with O_DIRECT (like qemu-nbd --cache=none)
              --engine ENGINE        disk-I/O engine: threads, native or io_uring (default: best available)
              --fdmon MONITOR        fd monitor: poll, epoll or io_uring (default: QEMU's policy)
              --description TEXT     free text clients see (nbdinfo shows it)
              --iothreads N          serve the connections on N IOThreads, 1..64; each connection goes to
                                     the one with the fewest (default 1)
              --poll-max-ns NS       the IOThreads' adaptive polling limit in ns, 0 turns it off
                                     (default 32768; like -object iothread,poll-max-ns=NS)
              --max-connections N    connections open at once; one more is closed at accept
                                     (default 0: no limit; like qemu-nbd --shared=N)
              --tls MODE             off, on or require: NBD_OPT_STARTTLS (default: require with
                                     --tls-creds, as qemu-nbd --tls-creds; otherwise off)
              --tls-creds DIR        server-cert.pem, server-key.pem [, ca-cert.pem] (QEMU tls-creds-x509 layout)
              --tls-verify-peer      clients must present a certificate from a CA in ca-cert.pem
              --tls-allow DN         accept only this client certificate subject (repeatable; like --tls-authz);
                                     clients without TLS are then refused even with --tls on
              --help, -h             print this and exit
            Every option with a value also takes the form --option=VALUE.""";

    private static final List<String> WITH_VALUE = List.of("--file", "--name", "--address", "--port", "--engine",
            "--fdmon", "--description", "--tls", "--tls-creds", "--tls-allow", "--socket", "--socket-mode", "--iothreads",
            "--poll-max-ns", "--max-connections");

    private NbdMain() {
    }

    private static void usage(String problem) {
        System.err.println("NbdMain: " + problem);
        System.err.println(USAGE);
        System.exit(2);
    }

    public static void main(String[] args) throws Exception {
        String file = null;
        String name = null;
        String address = "127.0.0.1";
        int port = 10809;
        boolean readOnly = false;
        boolean direct = false;
        String engine = null;
        String fdmon = null;
        String description = null;
        int iothreads = 1;
        long pollMaxNs = PollParams.IOTHREAD_POLL_MAX_NS;
        String socket = null;
        int socketMode = 0600;
        int maxConnections = 0;
        boolean socketModeGiven = false;
        TlsSettings.Mode tlsMode = null; // unset: require with --tls-creds (as qemu-nbd), else off
        String tlsCreds = null;
        boolean verifyPeer = false;
        java.util.Set<String> allowed = new java.util.LinkedHashSet<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            int eq = a.indexOf('=');
            String option = a.startsWith("--") && eq > 0 ? a.substring(0, eq) : a;
            if (!WITH_VALUE.contains(option)) {
                if (eq > 0 && a.startsWith("--")) {
                    usage(option + " takes no value, got " + a);
                }
                switch (a) {
                    case "--read-only" -> readOnly = true;
                    case "--direct" -> direct = true;
                    case "--tls-verify-peer" -> verifyPeer = true;
                    case "--help", "-h" -> {
                        System.out.println(USAGE);
                        System.exit(0);
                    }
                    default -> usage("unknown argument " + a);
                }
                continue;
            }
            String v;
            if (eq > 0) {
                v = a.substring(eq + 1);
            } else if (i + 1 < args.length) {
                v = args[++i];
            } else {
                usage(a + " needs a value");
                return;
            }
            switch (option) {
                case "--file" -> file = v;
                case "--name" -> name = v;
                case "--address" -> address = v;
                case "--port" -> port = port(v);
                case "--engine" -> engine = v;
                case "--fdmon" -> fdmon = v;
                case "--iothreads" -> iothreads = iothreads(v);
                case "--poll-max-ns" -> pollMaxNs = pollMaxNs(v);
                case "--max-connections" -> maxConnections = maxConnections(v);
                case "--tls" -> {
                    try {
                        tlsMode = TlsSettings.Mode.parse(v);
                    } catch (IllegalArgumentException e) {
                        usage("--" + e.getMessage());
                    }
                }
                case "--tls-creds" -> tlsCreds = v;
                case "--tls-allow" -> allowed.add(v);
                case "--socket" -> socket = v;
                case "--socket-mode" -> {
                    if (!v.matches("0?[0-7]{1,3}")) {
                        usage("--socket-mode needs an octal mode 0..0777, got " + v);
                    }
                    socketMode = Integer.parseInt(v, 8);
                    socketModeGiven = true;
                }
                default -> description = v;
            }
        }
        if (file == null || name == null) {
            usage("--file and --name are required");
        }
        if (socketModeGiven && socket == null) {
            usage("--socket-mode applies to a --socket only");
        }
        ExportSpec spec;
        try {
            spec = new ExportSpec(name, Path.of(file), readOnly, direct, description, null);
        } catch (IllegalArgumentException e) {
            usage(e.getMessage());
            return;
        }
        if (engine != null && !List.of("threads", "native", "io_uring").contains(engine)) {
            usage("--engine must be threads, native or io_uring, got " + engine);
        }
        if (fdmon != null && !List.of("poll", "epoll", "io_uring").contains(fdmon)) {
            usage("--fdmon must be poll, epoll or io_uring, got " + fdmon);
        }
        TlsSettings tls = TlsSettings.DISABLED;
        try {
            TlsSettings.Mode mode = tlsMode != null ? tlsMode
                    : tlsCreds != null ? TlsSettings.Mode.REQUIRE : TlsSettings.Mode.OFF;
            tls = new TlsSettings(mode, tlsCreds == null ? null : Path.of(tlsCreds), verifyPeer, allowed);
        } catch (IllegalArgumentException e) {
            usage(e.getMessage());
        }
        List<IOThread> threads = new ArrayList<>();
        List<AiolosContext> contexts = new ArrayList<>();
        for (int i = 0; i < iothreads; i++) {
            ContextOptions options = ContextOptions.ioThreadDefaults(i == 0 ? "nbd" : "nbd-" + (i + 1))
                    .withPollParams(new PollParams(pollMaxNs, 0, 0)).withFdMonitor(fdmon).withDiskEngine(engine);
            IOThread t = Aiolos.newIOThread(options);
            threads.add(t);
            t.start();
            contexts.add((AiolosContext) t.context());
        }
        AiolosContext ctx = contexts.get(0);
        Runnable closeThreads = () -> threads.forEach(IOThread::close);
        NbdServer server = null;
        try {
            server = socket != null ? NbdServer.startUnix(ctx, Path.of(socket), socketMode, tls)
                    : NbdServer.start(ctx, address, port, tls);
            server.setMaxConnections(maxConnections);
            for (int i = 1; i < contexts.size(); i++) {
                server.addContext(contexts.get(i));
            }
            server.addExport(spec);
        } catch (Exception e) {
            if (server != null) {
                server.close();
            }
            closeThreads.run();
            System.err.println("NbdMain: " + e.getMessage());
            System.exit(1);
        }
        if (ctx.fdMonitorNote() != null) {
            System.err.println("NbdMain: fd monitor " + ctx.fdMonitorName() + ": " + ctx.fdMonitorNote());
        }
        NbdServer running = server;
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            running.close();
            closeThreads.run();
            stopped.countDown();
        }, "nbd-shutdown"));
        String engineName = running.exports().get(0).engine();
        String where = running.socketPath() != null ? running.address() : running.address() + ":" + running.port();
        System.out.println("listening on " + where + " export " + name + " (engine "
                + engineName + ", fdmon " + ctx.fdMonitorName() + (iothreads > 1 ? ", iothreads " + iothreads : "")
                + ")" + (tls.mode() == TlsSettings.Mode.OFF ? "" : " tls " + tls.mode()));
        System.out.flush();
        stopped.await();
    }

    /** An IOThread count as written: digits only, 1..64. */
    private static int iothreads(String v) {
        if (!v.matches("[0-9]{1,2}") || Integer.parseInt(v) < 1 || Integer.parseInt(v) > 64) {
            usage("--iothreads needs a number 1..64, got " + v);
        }
        return Integer.parseInt(v);
    }

    /** A polling limit as written: digits only, 0..1 s (polling longer than a second is never a gain). */
    private static long pollMaxNs(String v) {
        if (!v.matches("[0-9]{1,10}") || Long.parseLong(v) > 1_000_000_000L) {
            usage("--poll-max-ns needs a number of nanoseconds 0..1000000000, got " + v);
        }
        return Long.parseLong(v);
    }

    /** A connection limit as written: digits only, 0 (none)..65535. */
    private static int maxConnections(String v) {
        if (!v.matches("[0-9]{1,5}") || Integer.parseInt(v) > 65535) {
            usage("--max-connections needs a number 0..65535 (0: no limit), got " + v);
        }
        return Integer.parseInt(v);
    }

    /** A port number as written: digits only, 0..65535. */
    private static int port(String v) {
        if (!v.matches("[0-9]{1,5}") || Integer.parseInt(v) > 65535) {
            usage("--port needs a number 0..65535, got " + v);
        }
        return Integer.parseInt(v);
    }
}
