package org.aiolos.itests;

import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The assembled distribution ({@code bundles/target/aiolos}) run as a user runs it, for
 * DistributionIT: its own {@code conf/} copy (the scratch export and the echo demo on free
 * ports, so a distribution someone else runs is not disturbed) and its own framework cache,
 * both in a temporary folder that {@link #close} deletes.
 */
final class Dist implements AutoCloseable {
    static final long START_S = 120;
    /*
     * The distribution starts with SIGINT at its default, as from a terminal. A shell starts
     * a background job with SIGINT ignored; that survives fork and exec down to this JVM's
     * children, and a JVM that finds SIGINT ignored installs no handler for it (the Ctrl-C
     * and SIGINT cases would then test how the build was started). coreutils' env undoes it;
     * where it cannot (older than 8.31), nothing is prefixed.
     */
    private static final List<String> DEFAULT_SIGINT = defaultSigintPrefix();
    final Path home = Path.of(System.getProperty("aiolos.dist"));
    final Path tmp;
    final Path conf;
    final Path cache;
    final int nbdPort;
    /** This run's log file (the distribution's logging.properties, pointed into {@link #tmp}). */
    final Path log;
    private final List<Run> runs = new ArrayList<>();

    Dist() throws IOException {
        assertTrue("no distribution at " + home + " (the bundles module builds it)",
                Files.isRegularFile(home.resolve("bin/aiolos")));
        tmp = Files.createTempDirectory("aiolos-dist-it");
        conf = Files.createDirectory(tmp.resolve("conf"));
        cache = tmp.resolve("cache");
        nbdPort = freePort();
        try (Stream<Path> files = Files.list(home.resolve("conf"))) {
            for (Path f : files.toList()) {
                Files.copy(f, conf.resolve(f.getFileName()));
            }
        }
        Path scratch = conf.resolve("org.aiolos.nbd.export-scratch.cfg");
        String cfg = Files.readString(scratch);
        assertTrue(cfg, cfg.contains("\nport=10809\n") && cfg.contains("\niothread=io1\n"));
        Files.writeString(scratch, cfg.replace("\nport=10809\n", "\nport=" + nbdPort + "\n"));
        Files.writeString(conf.resolve("org.aiolos.demo.echo.cfg"), "port=0\n");
        log = tmp.resolve("log/aiolos.log");
        Path logging = conf.resolve("logging.properties");
        String props = Files.readString(logging, StandardCharsets.ISO_8859_1);
        assertTrue(props, props.contains("${aiolos.home}/log/aiolos.log"));
        Files.writeString(logging, props.replace("${aiolos.home}/log/aiolos.log", log.toString()),
                StandardCharsets.ISO_8859_1);
    }

    String scratchUri() {
        return "nbd://127.0.0.1:" + nbdPort + "/scratch";
    }

    /**
     * Starts {@code bin/aiolos args} with stdin a pipe the test writes: the script itself,
     * as a user types it (it was once shipped without its executable bit, unnoticed while
     * the tests ran it through {@code sh}).
     */
    Run start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/aiolos").toString()));
        cmd.addAll(List.of(args));
        return start(cmd);
    }

    Run start(List<String> cmd) throws IOException {
        List<String> argv = new ArrayList<>(DEFAULT_SIGINT);
        argv.addAll(cmd);
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().put("AIOLOS_CONF", conf.toString());
        pb.environment().put("AIOLOS_JAVA_OPTS", "-Daiolos.cache=" + cache);
        pb.environment().put("TERM", "xterm-256color"); // for the pty run: a terminal JLine knows
        pb.redirectErrorStream(true);
        Run r = new Run(pb.start(), String.join(" ", cmd));
        runs.add(r);
        return r;
    }

    private static List<String> defaultSigintPrefix() {
        List<String> prefix = List.of("env", "--default-signal=INT");
        try {
            Process p = new ProcessBuilder(Stream.concat(prefix.stream(), Stream.of("true")).toList())
                    .redirectErrorStream(true).start();
            try (InputStream out = p.getInputStream()) {
                out.transferTo(OutputStream.nullOutputStream());
            }
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly(); // no probe outlives the test run
                return List.of();
            }
            return p.exitValue() == 0 ? prefix : List.of();
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    /** A JVM of this distribution still running (its command line names this cache)? */
    boolean anyJvmLeft() {
        String mark = "-Daiolos.cache=" + cache;
        return ProcessHandle.allProcesses().anyMatch(p -> p.info().arguments()
                .map(a -> List.of(a).contains(mark)).orElse(false));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        for (Run r : runs) {
            r.process.destroyForcibly();
        }
        try (Stream<Path> all = Files.walk(tmp)) {
            all.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }

    /** One run of the distribution: its console, searched with patterns, and its stdin. */
    static final class Run {
        final Process process;
        final String command;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        private final OutputStream stdin;
        private final AtomicInteger marks = new AtomicInteger();
        private final Thread reader;

        Run(Process process, String command) {
            this.process = process;
            this.command = command;
            this.stdin = process.getOutputStream();
            InputStream in = process.getInputStream();
            reader = Thread.ofPlatform().daemon().start(() -> {
                byte[] b = new byte[8192];
                try {
                    for (int n; (n = in.read(b)) > 0; ) {
                        synchronized (buf) {
                            buf.write(b, 0, n);
                        }
                    }
                } catch (IOException ended) {
                    // the process ended
                }
            });
        }

        void send(String text) throws IOException {
            stdin.write(text.getBytes(StandardCharsets.UTF_8));
            stdin.flush();
        }

        /**
         * Runs shell commands (stdin mode) and returns what they printed: the output from
         * here up to a marker line printed by a harmless command sent after them.
         */
        String ask(String commands, long timeoutS) throws IOException, InterruptedException {
            int from = length();
            String mark = "zz-mark-" + marks.incrementAndGet();
            // A quoted string is a Gogo expression whose value is printed: the marker, and a
            // command that cannot fail (a refused command would end the script).
            send(commands + "\n'" + mark + "'\n");
            Matcher m = await("the answer to " + commands, timeoutS, "(?m)^" + Pattern.quote(mark) + "$", from);
            return toString().substring(from, m.start());
        }

        /** Asks until the answer matches (the container applies files within a poll or two). */
        String askUntil(String commands, String regex, long timeoutS) throws IOException, InterruptedException {
            Pattern p = Pattern.compile(regex);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
            String answer;
            do {
                answer = ask(commands, timeoutS);
                if (p.matcher(answer).find()) {
                    return answer;
                }
                Thread.sleep(200);
            } while (System.nanoTime() < deadline);
            throw new AssertionError("'" + commands + "' never answered /" + regex + "/ in " + timeoutS + " s; last:\n"
                    + answer + "\nconsole:\n" + this);
        }

        void closeStdin() throws IOException {
            stdin.close();
        }

        int length() {
            synchronized (buf) {
                return buf.size();
            }
        }

        Matcher await(String what, long timeoutS, String regex) throws InterruptedException {
            return await(what, timeoutS, regex, 0);
        }

        Matcher await(String what, long timeoutS, String regex, int from) throws InterruptedException {
            Pattern pattern = Pattern.compile(regex);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
            while (true) {
                Matcher m = pattern.matcher(toString());
                if (m.find(from)) {
                    return m;
                }
                if (System.nanoTime() > deadline || !process.isAlive() && !pattern.matcher(toString()).find(from)) {
                    if (!process.isAlive()) {
                        reader.join(TimeUnit.SECONDS.toMillis(30)); // the last output may still be in the pipe
                        m = pattern.matcher(toString());
                        if (m.find(from)) {
                            return m;
                        }
                    }
                    throw new AssertionError("waiting for " + what + " (/" + regex + "/)" + (process.isAlive()
                            ? " timed out after " + timeoutS + " s" : ": the process ended, " + process.exitValue())
                            + "; " + command + " printed:\n" + this);
                }
                Thread.sleep(50);
            }
        }

        /** Waits for the exit, and for the reader to take all the output, and returns the status. */
        int exit(long timeoutS) throws InterruptedException {
            assertTrue(command + " did not end within " + timeoutS + " s:\n" + this,
                    process.waitFor(timeoutS, TimeUnit.SECONDS));
            reader.join(TimeUnit.SECONDS.toMillis(30)); // until EOF: the exit comes before the pipe is drained
            return process.exitValue();
        }

        @Override
        public String toString() {
            synchronized (buf) {
                return buf.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
