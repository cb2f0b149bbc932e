package org.aiolos.nbd;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.aiolos.api.IOThread;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.ContextOptions;

/**
 * A standalone NBD server for benchmarks and manual use (like {@code qemu-nbd}):
 *
 * <pre>
 * NbdMain --file F --name N [--address A] [--port P] [--read-only] [--direct]
 *         [--engine threads|native|io_uring] [--fdmon poll|epoll|io_uring] [--description D]
 * </pre>
 *
 * It starts an IOThread, prints {@code listening on A:P export N (engine E, fdmon M)} and
 * serves until killed; SIGTERM/SIGINT close the server and the IOThread.
 */
public final class NbdMain {
    private NbdMain() {
    }

    private static void usage(String problem) {
        System.err.println("NbdMain: " + problem);
        System.err.println("usage: NbdMain --file F --name N [--address A] [--port P] [--read-only] [--direct]"
                + " [--engine threads|native|io_uring] [--fdmon poll|epoll|io_uring] [--description D]");
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
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--read-only" -> readOnly = true;
                case "--direct" -> direct = true;
                case "--file", "--name", "--address", "--port", "--engine", "--fdmon", "--description" -> {
                    if (i + 1 >= args.length) {
                        usage(a + " needs a value");
                    }
                    String v = args[++i];
                    switch (a) {
                        case "--file" -> file = v;
                        case "--name" -> name = v;
                        case "--address" -> address = v;
                        case "--port" -> {
                            try {
                                port = Integer.parseInt(v);
                            } catch (NumberFormatException e) {
                                usage("--port needs a number, got " + v);
                            }
                        }
                        case "--engine" -> engine = v;
                        case "--fdmon" -> fdmon = v;
                        default -> description = v;
                    }
                }
                case "--help", "-h" -> usage("help");
                default -> usage("unknown argument " + a);
            }
        }
        if (file == null || name == null) {
            usage("--file and --name are required");
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
        ContextOptions options = ContextOptions.ioThreadDefaults("nbd").withFdMonitor(fdmon).withDiskEngine(engine);
        IOThread io = Aiolos.newIOThread(options);
        io.start();
        AiolosContext ctx = (AiolosContext) io.context();
        NbdServer server = null;
        try {
            server = NbdServer.start(ctx, address, port);
            server.addExport(spec);
        } catch (Exception e) {
            if (server != null) {
                server.close();
            }
            io.close();
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
            io.close();
            stopped.countDown();
        }, "nbd-shutdown"));
        String engineName = running.exports().get(0).engine();
        System.out.println("listening on " + running.address() + ":" + running.port() + " export " + name + " (engine "
                + engineName + ", fdmon " + ctx.fdMonitorName() + ")");
        System.out.flush();
        stopped.await();
    }
}
