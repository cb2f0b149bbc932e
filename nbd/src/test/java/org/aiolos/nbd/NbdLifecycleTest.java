package org.aiolos.nbd;

import static org.aiolos.nbd.NbdFixture.image;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.aiolos.linux.Fds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start, serve, close: nothing leaks; close works from any thread, twice; NbdMain serves standalone. */
class NbdLifecycleTest {
    @TempDir
    Path dir;

    /** Live threads by name, without the JDK's own helpers that come and go on their own. */
    private static Map<String, Integer> threads() {
        Map<String, Integer> m = new TreeMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            String n = t.getName();
            if (t.isAlive() && !n.startsWith("ForkJoinPool") && !n.startsWith("process reaper")
                    && !n.startsWith("InnocuousThread") && !n.equals("Attach Listener")) {
                m.merge(n.replaceAll("\\d+", "#"), 1, Integer::sum);
            }
        }
        return m;
    }

    private void cycle(Path img, Path odd) throws Exception {
        try (NbdFixture f = new NbdFixture("native", null)) {
            f.server.addExport(new ExportSpec("a", img, false, true, null, null));
            f.server.addExport(new ExportSpec("b", odd, false, false, null, NbdFixture.requireEngine("io_uring")));
            f.server.addExport(new ExportSpec("c", img, true, false, null, NbdFixture.requireEngine("threads")));
            try (RawNbdClient a = new RawNbdClient(f.server.port()).go("a", true);
                    RawNbdClient b = new RawNbdClient(f.server.port()).go("b", false);
                    RawNbdClient c = new RawNbdClient(f.server.port()).go("c", false);
                    RawNbdClient idle = new RawNbdClient(f.server.port())) {
                a.write(1, 1001, new byte[5000], 1);
                assertEquals(0, a.simpleReply(1));
                b.write(2, 4096, new byte[4096], 0);
                assertEquals(0, b.simpleReply(2));
                assertEquals(8, c.read(3, 0, 8).length);
                idle.greet(3);
                // Requests still in flight when the server closes: they complete first.
                for (int i = 0; i < 8; i++) {
                    b.request(0, 0, 10 + i, 0, 65536);
                }
                b.out.flush();
            }
            assertEquals(3, f.server.exports().size());
        }
    }

    @Test
    void maxConnectionsClosesOneMoreAtAcceptAndAdmitsAgainWhenOneLeaves() throws Exception {
        LogCapture logged = new LogCapture();
        try (logged; NbdFixture f = new NbdFixture()) {
            f.server.addExport(ExportSpec.of("disk", image(dir, "img", 1 << 20, 6)));
            f.server.setMaxConnections(2);
            try (RawNbdClient warmUp = new RawNbdClient(f.server.port())) { // what a first connection opens for good
                warmUp.greet(3);
                warmUp.option(2, new byte[0]);
                assertEquals(1, warmUp.optReply().type());
            }
            awaitConnections(f, 0);
            int fdsBefore = Fds.openFdCount();
            RawNbdClient a = new RawNbdClient(f.server.port());
            a.greet(3);
            try (RawNbdClient b = new RawNbdClient(f.server.port())) {
                b.greet(3);
                for (int i = 0; i < 3; i++) {
                    try (RawNbdClient extra = new RawNbdClient(f.server.port())) {
                        assertTrue(extra.closedByServer(), "closed before the greeting");
                    }
                }
                a.close(); // one leaves: the next is served
                awaitConnections(f, 1);
                try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                    c.greet(3);
                    c.option(2, new byte[0]); // NBD_OPT_ABORT
                    assertEquals(1, c.optReply().type()); // NBD_REP_ACK
                }
            }
            awaitConnections(f, 0);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (Fds.openFdCount() != fdsBefore && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(fdsBefore, Fds.openFdCount(), "open fds before/after");
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> f.server.setMaxConnections(-1));
        }
        // Throttled (ThrottledLogTest checks the window with its own clock): how many of the
        // three land in one 10 s window is the scheduler's business on a loaded machine.
        List<String> warned = logged.lines(l -> l.contains("max-connections"));
        assertTrue(!warned.isEmpty() && warned.size() <= 3, "warned about the refused connections: " + warned);
    }

    /**
     * A disk that fails (here pwritev answering ENOSPC on the threads engine's worker) gives
     * the client the error and the operator a log line naming the export, the request and
     * the errno; before, only an exception was logged, never an errno from the engine.
     */
    @Test
    void aFailingDiskIsLoggedWithTheExportTheRequestAndTheErrno() throws Exception {
        Path img = image(dir, "full", 1 << 20, 5);
        LogCapture logged = new LogCapture();
        try (logged; NbdFixture f = new NbdFixture("threads", null)) {
            f.server.addExport(new ExportSpec("full", img, false, false, null, null));
            try (RawNbdClient c = new RawNbdClient(f.server.port()).go("full", false)) {
                org.aiolos.linux.faults.Faults.failAlways("pwritev", org.aiolos.linux.Errno.ENOSPC);
                try {
                    c.write(1, 8192, new byte[4096], 0);
                    assertEquals(28, c.simpleReply(1), "ENOSPC reaches the client");
                } finally {
                    org.aiolos.linux.faults.Faults.clear();
                }
                c.write(2, 8192, new byte[4096], 0);
                assertEquals(0, c.simpleReply(2), "the export serves on once the disk has room");
            }
        }
        assertEquals(List.of("SEVERE export 'full': write of 4096 bytes at 8192 failed: ENOSPC (No space left on device)"),
                logged.lines(l -> l.contains("failed")));
    }

    /**
     * Out of descriptors, the server pauses accepting for 100 ms at a time, and says so once
     * per 10 s rather than at every pause; the client waiting in the backlog is served once
     * descriptors are back.
     */
    @Test
    void acceptPausesOutOfDescriptorsAreLoggedOncePerWindow() throws Exception {
        Path img = image(dir, "img", 1 << 20, 3);
        LogCapture logged = new LogCapture();
        try (logged; NbdFixture f = new NbdFixture()) {
            f.server.addExport(new ExportSpec("img", img, true, false, null, null));
            org.aiolos.linux.faults.Faults.failAlways("accept4", org.aiolos.linux.Errno.EMFILE);
            try (java.net.Socket waiting = new java.net.Socket("127.0.0.1", f.server.port())) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (logged.lines(l -> l.contains("not accepting")).isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                Thread.sleep(500); // several pauses: each ends in another while accept4 fails
                org.aiolos.linux.faults.Faults.clear();
                try (RawNbdClient c = new RawNbdClient(f.server.port()).go("img", false)) {
                    assertEquals(8, c.read(1, 0, 8).length, "served once descriptors are back");
                }
            } finally {
                org.aiolos.linux.faults.Faults.clear();
            }
        }
        assertEquals(1, logged.lines(l -> l.contains("EMFILE") && l.contains("not accepting for 100 ms")).size(),
                () -> "one line for the pauses of one window: " + logged.lines(l -> l.contains("accept")));
    }

    private static void awaitConnections(NbdFixture f, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (f.server.connectionCount() != n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(n, f.server.connectionCount(), "connections open");
    }

    @Test
    void startServeCloseLeavesNoFdOrThread() throws Exception {
        Path img = image(dir, "img", 1 << 20, 1);
        Path odd = image(dir, "odd", (1 << 20) + 123, 2);
        LogCapture logged = new LogCapture();
        try (logged) {
            leakCycles(img, odd);
        }
        assertEquals(List.of(), logged.lines(l -> l.startsWith("SEVERE")), "errors logged during the lifecycle");
    }

    private void leakCycles(Path img, Path odd) throws Exception {
        cycle(img, odd); // warm up: class loading, lazily started JDK threads
        int fdsBefore = Fds.openFdCount();
        Map<String, Integer> threadsBefore = threads();
        for (int i = 0; i < 3; i++) {
            cycle(img, odd);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((Fds.openFdCount() != fdsBefore || !threads().equals(threadsBefore)) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(fdsBefore, Fds.openFdCount(), "open fds before/after");
        assertEquals(threadsBefore, threads(), "threads before/after");
    }

    @Test
    void closeIsIdempotentAndWorksFromTheHomeThread() throws Exception {
        Path img = image(dir, "img", 1 << 20, 3);
        try (NbdFixture f = new NbdFixture()) {
            f.server.addExport(ExportSpec.of("x", img));
            RawNbdClient c = new RawNbdClient(f.server.port()).go("x", false);
            assertArrayEquals(Arrays.copyOfRange(Files.readAllBytes(img), 0, 4), c.read(1, 0, 4));
            CompletableFuture<Void> closed = new CompletableFuture<>();
            f.ctx.scheduleOneshot("close-in-home", () -> {
                try {
                    f.server.close();
                    f.server.close();
                    closed.complete(null);
                } catch (Throwable t) {
                    closed.completeExceptionally(t);
                }
            });
            closed.get(30, TimeUnit.SECONDS);
            assertTrue(c.closedByServer());
            c.close();
            f.server.close();
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> f.server.addExport(ExportSpec.of("y", img)));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            assertEquals(List.of(), f.server.exports());
        }
    }

    @Test
    void nbdMainRejectsBadArgumentsWithAMessage() throws Exception {
        Path img = image(dir, "img", 4096, 5);
        String java = ProcessHandle.current().info().command().orElse("java");
        String[][] cases = {
            {"--fdmon", "bogus", "--fdmon must be poll, epoll or io_uring"},
            {"--engine", "bogus", "--engine must be threads, native or io_uring"},
            {"--address", "1.2.3.4", "cannot listen on 1.2.3.4:0: bind"},
            {"--port=+5", "--read-only", "--port needs a number 0..65535, got +5"},
            {"--read-only=yes", "--direct", "--read-only takes no value"},
            {"--fdmon=kqueue", "--direct", "--fdmon must be poll, epoll or io_uring, got kqueue"},
            {"--iothreads", "0", "--iothreads needs a number 1..64, got 0"},
            {"--iothreads=65", "--direct", "--iothreads needs a number 1..64, got 65"},
            {"--poll-max-ns", "-1", "--poll-max-ns needs a number of nanoseconds 0..1000000000, got -1"},
            {"--poll-max-ns=2000000000", "--direct", "--poll-max-ns needs a number of nanoseconds 0..1000000000, got 2000000000"},
            {"--tls", "sometimes", "--tls must be off, on or require, got 'sometimes'"},
            {"--tls=require", "--read-only", "tls=require needs a credentials directory (tls-creds)"},
            {"--tls-allow", "CN=x", "verify-peer and allowed clients need tls=on or tls=require"},
            {"--socket-mode", "999", "--socket-mode needs an octal mode 0..0777, got 999"},
            {"--tls=off", "--tls-creds=" + dir, "is given but tls is off, so the listener would serve plaintext"},
            {"--socket-mode", "0666", "--socket-mode applies to a --socket only"},
            {"--tls-allow", "", "an empty distinguished name matches no client certificate"},
            {"--max-connections", "-1", "--max-connections needs a number 0..65535 (0: no limit), got -1"},
        };
        for (String[] c : cases) {
            Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "--add-exports",
                    "java.base/jdk.internal.vm=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    "org.aiolos.nbd.NbdMain", "--file", img.toString(), "--name", "n", "--port", "0", c[0], c[1])
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertTrue(p.exitValue() != 0, out);
            assertTrue(out.contains(c[2]), out);
        }
    }

    @Test
    void nbdMainHelpPrintsTheUsageAndExitsZero() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "org.aiolos.nbd.NbdMain",
                "--help").start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.startsWith("usage: NbdMain --file FILE --name NAME [options]"), out);
        assertTrue(out.contains("--port PORT") && out.contains("--option=VALUE"), out);
    }

    /** NbdMain as a user runs it, on the module path (which also checks the module descriptors). */
    @Test
    void nbdMainServesOnTheModulePathUntilKilled() throws Exception {
        Path img = image(dir, "img", 2 << 20, 4);
        List<String> modules = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (e.endsWith("target" + File.separator + "classes") || e.matches(".*/aiolos-(api|linux|core|diskio(-[a-z]+)?|fdmon-[a-z]+|"
                    + "threadpool|linux-aio|nbd)-[0-9.]+(-SNAPSHOT)?\\.jar")) {
                modules.add(e);
            }
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = List.of(java, "--enable-native-access=org.aiolos.linux",
                "--add-exports", "java.base/jdk.internal.vm=org.aiolos.core",
                "--module-path", String.join(File.pathSeparator, modules),
                "-m", "org.aiolos.nbd/org.aiolos.nbd.NbdMain",
                "--file=" + img, "--name", "m", "--port=0", "--engine", "threads", "--fdmon=epoll",
                "--direct", "--description", "from main", "--iothreads=2", "--poll-max-ns", "0");
        try (NbdMainProcess p = NbdMainProcess.start(cmd)) {
            int portNo = Integer.parseInt(p.awaitLine(Pattern.compile(
                    "listening on 127\\.0\\.0\\.1:(\\d+) export m \\(engine threads, fdmon epoll, iothreads 2\\)"), 30)
                    .group(1));
            String info = NbdFixture.ok(30, "nbdinfo", "nbd://127.0.0.1:" + portNo + "/m");
            assertTrue(info.contains("description: from main"), info);
            assertTrue(info.contains("export-size: " + (2 << 20)), info);
            // two connections at once, one per IOThread
            Path copy = dir.resolve("copy");
            NbdFixture.ok(30, "nbdcopy", "--connections=2", "nbd://127.0.0.1:" + portNo + "/m", copy.toString());
            assertArrayEquals(Files.readAllBytes(img), Files.readAllBytes(copy));
        }
    }
}
