package org.aiolos.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import org.junit.Test;

/**
 * The assembled distribution as a user runs it, {@code bundles/target/aiolos/bin/aiolos}:
 * its command line, the default NBD export reached with {@code qemu-img} and
 * {@code nbdinfo}, {@code .cfg} files dropped, edited and deleted while it runs, shell
 * changes that outlive a restart, the interactive JLine shell in a pty (Ctrl-C during
 * {@code aio:top}), and SIGTERM and SIGINT stopping everything. Each test has its own
 * copy of {@code conf/} and its own framework cache ({@link Dist}).
 */
public class DistributionIT {
    private static final long SCRATCH_BYTES = 64L << 20;

    @Test
    public void helpAndVersionPrintAndExitWithoutStartingAnything() throws Exception {
        try (Dist d = new Dist()) {
            Dist.Run help = d.start("--help");
            assertEquals(help.toString(), 0, help.exit(30));
            assertTrue(help.toString(), help.toString().startsWith("usage: aiolos [--clean] [--server | --run FILE]"));
            Dist.Run version = d.start("--version");
            assertEquals(version.toString(), 0, version.exit(30));
            assertTrue(version.toString(), version.toString().matches("(?s)Aiolos \\S+\nApache Felix Framework 7\\..*"
                    + "\nJava 25.*"));
            Dist.Run bad = d.start("--bogus");
            assertEquals(bad.toString(), 2, bad.exit(30));
            assertTrue(bad.toString(), bad.toString().startsWith("aiolos: unknown argument '--bogus'\nusage:"));
            // A missing conf/ (a mistyped AIOLOS_CONF) is a start-up error, not an empty instance
            // that deletes every stored configuration as stale.
            Path moved = Files.move(d.conf, d.tmp.resolve("conf-moved"));
            Dist.Run noConf = d.start();
            assertEquals(noConf.toString(), 2, noConf.exit(60));
            assertEquals("aiolos: the configuration folder " + d.conf + " does not exist (AIOLOS_CONF,"
                    + " -Daiolos.conf); nothing started\n", noConf.toString());
            Files.move(moved, d.conf);
            assertFalse("nothing started: no framework cache", Files.exists(d.cache));
            assertFalse("nothing listens on the export's port", Dist.listening(d.nbdPort));
            System.out.println("DistributionIT: --help, --version, --bogus (exit 2); nothing started");
        }
    }

    @Test
    public void theDefaultExportAnswersQemuImgAndNbdinfoAndCommandsOnStdinExitWithTheirStatus() throws Exception {
        Tools.requireAll(List.of("qemu-img", "nbdinfo"));
        try (Dist d = new Dist()) {
            Dist.Run r = d.start();
            String list = r.askUntil("nbd:list", "scratch\\s+serving\\s+io1\\s+127\\.0\\.0\\.1:" + d.nbdPort, Dist.START_S);
            System.out.println("DistributionIT: nbd:list\n" + list);
            // conf/ configures io1: the default IOThread waits for it rather than starting and
            // stopping at once (which bounced the echo demo from iothread0 to io1).
            String startLog = Files.readString(d.log);
            assertTrue(startLog, startLog.contains("IOThread 'io1' started (configuration)")
                    && !startLog.contains("IOThread 'iothread0' started"));
            assertEquals(SCRATCH_BYTES, Files.size(d.home.resolve("work/scratch.img")));
            String info = Tools.run(30, "qemu-img", "info", "--output=json", d.scratchUri());
            assertTrue(info, info.contains("\"virtual-size\": " + SCRATCH_BYTES));
            String nbdinfo = Tools.run(30, "nbdinfo", d.scratchUri());
            assertTrue(nbdinfo, nbdinfo.contains("export=\"scratch\"") && nbdinfo.contains("export-size: "
                    + SCRATCH_BYTES));

            String lb = r.ask("lb", 30);
            List<String> bundles = lb.lines().filter(l -> l.matches("\\s*\\d+\\|.*")).toList();
            assertTrue(lb, bundles.size() >= 22);
            for (String l : bundles) {
                // the JLine shell starts only on a terminal; everything else runs
                assertTrue("not active: " + l + "\n" + r, l.contains("|Active") || l.contains("Gogo JLine"));
            }
            assertTrue(lb, lb.contains("File Install") && lb.contains("JLine Bundle"));
            // The applications start after core, and core after the backends, so they stop in
            // the other order: the NBD server ends its connections while the thread pool still
            // serves their TLS handshakes, and the IOThreads close before their backends go.
            for (String l : bundles) {
                int level = Integer.parseInt(l.split("\\|")[2].trim());
                if (l.contains("Aiolos NBD export server") || l.contains("Aiolos demo")) {
                    assertEquals(l, 5, level);
                } else if (l.contains("Aiolos core")) {
                    assertEquals(l, 4, level);
                } else if (l.contains("Aiolos")) {
                    assertEquals(l, 3, level);
                }
            }
            // Bare refresh: the launcher's felix:refresh (gogo.command 1.1.2's throws an NPE).
            assertTrue(r.ask("refresh", 60).startsWith("refreshed"));
            // Bundle commands take ids and symbolic names in scripts too (the launcher's converter).
            String stopped = r.ask("stop org.aiolos.linuxaio\nlb 'Linux AIO'", 60);
            assertTrue(stopped, stopped.matches("(?s).*\\|Resolved\\s*\\|.*Linux AIO.*"));
            String id = stopped.replaceAll("(?s).*?\\s(\\d+)\\|Resolved.*", "$1");
            String started = r.ask("start " + id + "\nlb 'Linux AIO'", 60);
            assertTrue(started, started.matches("(?s).*\\|Active\\s*\\|.*Linux AIO.*"));
            // The stdin script's first failing command ends it with status 1, naming the line: a
            // refused command fails as a wrong call does (the refusal once returned as text, and
            // the script went on).
            r.send("aio:use nosuch epoll\naio:use\nlb\n");
            assertEquals(r.toString(), 1, r.exit(60));
            assertTrue(r.toString(), r.toString().matches("(?s).*aiolos: stdin:\\d+: aio:use nosuch epoll: no context"
                    + " named 'nosuch'; contexts: .*"));
            assertFalse(r.toString(), r.toString().contains("aio:use: wrong arguments"));
            assertFalse("the export's port is free again", Dist.listening(d.nbdPort));
        }
    }

    @Test
    public void cfgFilesDroppedEditedAndDeletedApplyLive() throws Exception {
        Tools.requireAll(List.of("nbdinfo", "truncate"));
        try (Dist d = new Dist()) {
            Path img = d.tmp.resolve("extra.img");
            Tools.run(30, "truncate", "-s", "8M", img.toString());
            int port = Dist.freePort();
            Dist.Run r = d.start();
            r.askUntil("nbd:list", "scratch\\s+serving", Dist.START_S);

            Path io2 = d.conf.resolve("org.aiolos.iothread-io2.cfg");
            Path extra = d.conf.resolve("org.aiolos.nbd.export-extra.cfg");
            Files.writeString(io2, "# dropped by DistributionIT\nname=io2\npoll-max-ns=1000\n");
            Files.writeString(extra, "file=" + img + "\niothread=io2\nport=" + port + "\n");
            r.askUntil("aio:contexts", "poll-ns=\\d+/1000\\b", 30);
            r.askUntil("nbd:list", "extra\\s+serving\\s+io2\\s+127\\.0\\.0\\.1:" + port, 30);
            assertTrue(Tools.run(30, "nbdinfo", "nbd://127.0.0.1:" + port + "/extra").contains("export-size: "
                    + (8 << 20)));

            Files.writeString(io2, "# edited by DistributionIT\nname=io2\npoll-max-ns=2000\n");
            r.askUntil("aio:contexts", "poll-ns=\\d+/2000\\b", 30);
            // A bad edit is refused whole, with every error; the IOThread keeps 2000.
            Files.writeString(io2, "name=io2\npoll-max-ns=+7\nfrobnicate=1\n");
            String rejected = r.askUntil("aio:contexts", "last update rejected: 2 errors: frobnicate: unknown key", 30);
            assertTrue(rejected, rejected.contains("poll-max-ns: write the integer plainly (7), got '+7'"));
            assertTrue(rejected, rejected.matches("(?s).*poll-ns=\\d+/2000\\b.*"));

            Files.delete(extra);
            Files.delete(io2);
            r.askUntil("nbd:list", "^(?![\\s\\S]*extra)[\\s\\S]*scratch\\s+serving", 30);
            r.askUntil("aio:contexts", "^(?![\\s\\S]*\\bio2\\b)[\\s\\S]*\\bio1\\b", 30);
            assertFalse("the deleted export's port is closed", Dist.listening(port));
            r.closeStdin();
            assertEquals(r.toString(), 0, r.exit(60));
            System.out.println("DistributionIT: io2 and extra dropped, edited (a bad edit refused), deleted, live");
        }
    }

    @Test
    public void shellChangesAreWrittenToConfAndOutliveARestart() throws Exception {
        Tools.requireAll(List.of("nbdinfo", "truncate"));
        try (Dist d = new Dist()) {
            Path img = d.tmp.resolve("keep.img");
            Tools.run(30, "truncate", "-s", "4M", img.toString());
            int port = Dist.freePort();
            Dist.Run first = d.start();
            first.askUntil("nbd:list", "scratch\\s+serving", Dist.START_S);
            String made = first.ask("aio:configure io3 poll-max-ns=3000 thread-pool-max=8\nnbd:export keep " + img
                    + " iothread=io3 port=" + port + " read-only=true", 60);
            assertTrue(made, made.contains("io3: created (poll-max-ns=3000 thread-pool-max=8)"));
            assertTrue(made, made.contains("keep: created, serving nbd://127.0.0.1:" + port + "/keep on IOThread 'io3'"));
            // An update with three bad fields: three errors, nothing stored, the script stops (status 1).
            first.send("aio:configure io3 poll-max-ns=-0 thread-pool-min=9 thread-pool-max=2 fdmon=kqueue\n");
            assertEquals(first.toString(), 1, first.exit(60));
            assertTrue(first.toString(), first.toString().contains("io3: update rejected, nothing stored: 3 errors:"
                    + " poll-max-ns: write the integer plainly (0), got '-0'; fdmon: must be empty, poll, epoll or"
                    + " io_uring, got 'kqueue'; thread-pool-min/thread-pool-max: "));
            String io3 = Files.readString(d.conf.resolve("org.aiolos.iothread-io3.cfg"));
            assertTrue(io3, io3.contains("\npoll-max-ns=3000\n") && io3.contains("\nthread-pool-max=8\n")
                    && !io3.contains("kqueue"));
            assertTrue(Files.readString(d.conf.resolve("org.aiolos.nbd.export-keep.cfg")).contains("read-only=true"));

            Dist.Run second = d.start();
            second.askUntil("nbd:list", "keep\\s+serving\\s+io3\\s+127\\.0\\.0\\.1:" + port + "\\s+\\S+\\s+yes", Dist.START_S);
            String shown = second.ask("aio:configure io3", 30);
            assertTrue(shown, shown.matches("(?s).*poll-max-ns\\s+3000\n.*thread-pool-max\\s+8\n.*"));
            assertTrue(Tools.run(30, "nbdinfo", "nbd://127.0.0.1:" + port + "/keep").contains("is_read_only: true"));
            String gone = second.ask("nbd:close keep\naio:unconfigure io3", 60);
            assertTrue(gone, gone.contains("keep: configuration deleted; export closed"));
            assertFalse(Files.exists(d.conf.resolve("org.aiolos.nbd.export-keep.cfg")));
            assertFalse(Files.exists(d.conf.resolve("org.aiolos.iothread-io3.cfg")));
            second.closeStdin();
            assertEquals(second.toString(), 0, second.exit(60));
            // A file deleted while stopped: its configuration is deleted at start, counted on the
            // console and named in the log.
            Files.delete(d.conf.resolve("org.aiolos.nbd.export-scratch.cfg"));
            Dist.Run third = d.start();
            third.closeStdin();
            assertEquals(third.toString(), 0, third.exit(Dist.START_S));
            assertTrue(third.toString(), third.toString().contains("(watched; 1 stale configuration(s) deleted)"));
            String log = Files.readString(d.log);
            assertTrue(log, log.matches("(?s).* INFO +\\[org\\.aiolos\\.launcher\\] stale configuration deleted:"
                    + " org\\.aiolos\\.nbd\\.export\\S*scratch \\(from file:\\S*/org\\.aiolos\\.nbd\\.export-scratch\\.cfg,"
                    + " no longer a file of " + java.util.regex.Pattern.quote(d.conf.toString()) + "\\).*"));
            System.out.println("DistributionIT: io3 and keep made from the shell, written to conf/, served again"
                    + " after a restart, deleted with their files");
        }
    }

    @Test
    public void ctrlCInterruptsTopInTheTerminalShellAndTheExportsKeepServing() throws Exception {
        Tools.requireAll(List.of("script", "nbdinfo"));
        try (Dist d = new Dist()) {
            // script(1) gives the distribution a pty: stdin is a terminal, the JLine shell runs.
            // The pty gets a size: with none (0 columns) JLine cannot draw its prompt.
            Dist.Run r = d.start(List.of("script", "-qfec", "stty cols 160 rows 50; exec sh "
                    + d.home.resolve("bin/aiolos"), "/dev/null"));
            r.await("the prompt", Dist.START_S, "g! ");
            r.send("nbd:list\r");
            r.await("scratch served", 30, "scratch\\s+serving");
            int from = r.length();
            r.send("aio:top 1000 200\r");
            r.await("aio:top drawing", 30, "aio top  \\(3/1000", from);
            assertTrue("ANSI clear on a terminal", r.toString().substring(from).contains("\033[H\033[2J"));
            r.send("\u0003"); // Ctrl-C: the terminal's SIGINT, which the shell turns into an interrupt
            // Gogo reports an interrupted command as an InterruptedException (in red); then the prompt.
            r.await("aio:top interrupted", 30, "InterruptedException[\\s\\S]*g!", from);
            assertTrue(Tools.run(30, "nbdinfo", d.scratchUri()).contains("export=\"scratch\""));
            from = r.length();
            r.send("help nbd:export\r");
            Matcher help = r.await("help nbd:export", 30, "creates or updates an export[\\s\\S]*?g! ", from);
            assertTrue(help.group(), help.group().contains("the image file (an existing regular file)"));
            r.send("stop 0\r");
            assertEquals(r.toString(), 0, r.exit(60));
            assertFalse(Dist.listening(d.nbdPort));
            System.out.println("DistributionIT: Ctrl-C ended aio:top in the pty shell; the export kept serving");
        }
    }

    @Test
    public void sigtermStopsTheTerminalShellAsStopZeroDoes() throws Exception {
        Tools.requireAll(List.of("script", "nbdinfo", "kill"));
        try (Dist d = new Dist()) {
            Dist.Run r = d.start(List.of("script", "-qfec", "stty cols 160 rows 50; exec sh "
                    + d.home.resolve("bin/aiolos"), "/dev/null"));
            r.await("the prompt", Dist.START_S, "g! ");
            assertTrue(Tools.run(30, "nbdinfo", d.scratchUri()).contains("export=\"scratch\""));
            // The JVM under script(1) and sh's exec, SIGTERM'd as a service manager would.
            ProcessHandle jvm = r.process.descendants()
                    .filter(p -> p.info().arguments().map(a -> List.of(a).contains("-Daiolos.cache=" + d.cache))
                            .orElse(false))
                    .findFirst().orElseThrow(() -> new AssertionError("no JVM under " + r.command));
            Tools.run(30, "kill", "-TERM", String.valueOf(jvm.pid()));
            assertEquals(r.toString(), 143, r.exit(60));
            // The shell ended as after 'stop 0': before, JLine's shutdown hook left the shell's
            // thread in a read no interrupt ends, and Gogo gave up on it after 5 s, saying so.
            assertFalse(r.toString(), r.toString().contains("FAILED TO STOP EXECUTOR"));
            assertTrue(r.toString(), r.toString().contains("gosh: stopping framework"));
            assertTrue(Files.readString(d.log).contains("NBD export 'scratch' stopped"));
            assertFalse(Dist.listening(d.nbdPort));
            assertFalse("no JVM of this distribution left", d.anyJvmLeft());
            System.out.println("DistributionIT: SIGTERM stopped the terminal shell (143), as stop 0 does");
        }
    }

    @Test
    public void sigtermAndSigintStopEverything() throws Exception {
        Tools.requireAll(List.of("nbdinfo", "setsid", "kill"));
        try (Dist d = new Dist()) {
            Dist.Run server = d.start("--server");
            server.await("the export", Dist.START_S, "nbd: export 'scratch' .* at nbd://127\\.0\\.0\\.1:" + d.nbdPort);
            server.await("the banner", 30, "No shell \\(--server\\)");
            // A second launcher on the same cache (a script pointed at this server's folder) is
            // refused before it starts a framework over the same store.
            Dist.Run second = d.start();
            assertEquals(second.toString(), 2, second.exit(60));
            assertTrue(second.toString(), second.toString().contains("another Aiolos runs on the framework cache"));
            assertTrue(Tools.run(30, "nbdinfo", d.scratchUri()).contains("export=\"scratch\""));
            Tools.run(30, "kill", "-TERM", String.valueOf(server.process.pid()));
            int status = server.exit(60);
            assertEquals(server.toString(), 143, status); // 128 + SIGTERM, after the shutdown hook stopped Felix
            // What the bundles said while stopping reached the log (the JDK's own hook closed it first before).
            String log = Files.readString(d.log);
            assertTrue(log, log.contains("NBD export 'scratch' stopped"));
            assertFalse(log, log.matches("(?s).*NBD export configuration \\S+ deleted.*")); // stopped, not deleted
            assertFalse(Dist.listening(d.nbdPort));
            assertFalse("no JVM of this distribution left", d.anyJvmLeft());

            // Not on a terminal, SIGINT to the process group (what Ctrl-C in a pipeline sends) stops it too.
            Dist.Run piped = d.start(List.of("setsid", "sh", d.home.resolve("bin/aiolos").toString()));
            piped.askUntil("nbd:list", "scratch\\s+serving", Dist.START_S);
            Tools.run(30, "kill", "-INT", "--", "-" + piped.process.pid());
            assertEquals(piped.toString(), 130, piped.exit(60));
            assertFalse(Dist.listening(d.nbdPort));
            assertFalse("no JVM of this distribution left", d.anyJvmLeft());
            System.out.println("DistributionIT: SIGTERM (143) and SIGINT to the group (130) stopped everything");
        }
    }
}
