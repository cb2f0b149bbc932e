package org.aiolos.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.inject.Inject;
import org.aiolos.core.AiolosContext;
import org.apache.felix.service.command.CommandProcessor;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * NBD exports in Felix with every bundle, made through Config Admin and through the
 * {@code nbd} shell commands, driven by the real clients: qemu-img (info, convert,
 * compare), qemu-io (patterned write and read), nbdinfo, nbdcopy and fio's nbd engine with
 * verification. Also: rejected configurations (the message names the field, the other
 * exports keep serving), an export waiting for its IOThread, fd-monitor and disk-engine
 * swaps while a client copies, and the fd and thread counts after exports close.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class NbdIT {
    private static final String EXPORT_PID = "org.aiolos.nbd.export";
    private static final int MIB = 1 << 20;

    @Inject
    BundleContext bc;
    @Inject
    ConfigurationAdmin cm;
    @Inject
    CommandProcessor gogo;

    private NbdRig rig;
    private Path dir;

    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        return Setup.container();
    }

    @Before
    public void tools() throws IOException {
        Tools.requireAll(List.of("qemu-img", "qemu-io", "nbdinfo", "nbdcopy", "fio"));
        rig = new NbdRig(bc, cm, gogo, "nbd-it");
        dir = rig.dir;
    }

    @After
    public void cleanUp() throws Exception {
        rig.close();
    }

    // ---------------------------------------------------------------- tests

    @Test
    public void configAdminExportServesEveryRealClient() throws Exception {
        iothread("nbd-cm");
        Path disk = image("cm.img", 32, false);
        int port = freePort();
        export("cm", disk, "iothread", "nbd-cm", "port", port, "description", "made by NbdIT");
        String uri = uri(port, "cm");
        awaitServing("cm");

        String info = Tools.run(30, "qemu-img", "info", "--output=json", uri);
        assertTrue(info, info.contains("\"virtual-size\": " + 32 * MIB));
        String nbdinfo = Tools.run(30, "nbdinfo", uri);
        assertTrue(nbdinfo, nbdinfo.contains("export=\"cm\"") && nbdinfo.contains("export-size: " + 32 * MIB)
                && nbdinfo.contains("is_read_only: false") && nbdinfo.contains("description: made by NbdIT"));

        String io = Tools.run(30, "qemu-io", "-f", "raw", "-c", "write -P 0xa5 1M 3M", "-c", "read -P 0xa5 1M 3M",
                "-c", "read -P 0 0 1M", uri);
        assertTrue(io, io.contains("wrote 3145728/3145728") && io.contains("read 3145728/3145728")
                && !io.contains("Pattern verification failed"));
        assertEquals("qemu-io's pattern is in the file", (byte) 0xa5, byteAt(disk, 2 * MIB + 17));

        Path source = image("source.img", 32, true);
        Tools.run(60, "qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", source.toString(), uri);
        String cmp = Tools.run(60, "qemu-img", "compare", "-f", "raw", "-F", "raw", source.toString(), uri);
        assertTrue(cmp, cmp.contains("Images are identical"));

        Path copy = dir.resolve("copy.img");
        Tools.run(60, "nbdcopy", uri, copy.toString());
        assertArrayEquals("nbdcopy's copy equals the source", Files.readAllBytes(source), Files.readAllBytes(copy));

        // --verify_state_save=0: no *-verify.state file left in the working directory.
        String fio = Tools.run(120, "fio", "--name=verify", "--ioengine=nbd", "--uri=" + uri, "--rw=randwrite",
                "--bs=4k", "--iodepth=16", "--size=8m", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1",
                "--randrepeat=0", "--verify_state_save=0");
        assertTrue(fio, fio.contains("err= 0") && !fio.contains("verify: bad"));

        String list = Gogo.run(gogo, "nbd:list");
        System.out.println("NbdIT nbd:list after the clients\n" + list);
        Matcher m = Pattern.compile("(?m)^cm\\s+serving\\s+nbd-cm\\s+127\\.0\\.0\\.1:" + port
                + "\\s+(\\S+)\\s+no\\s+" + 32 * MIB + "\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+"
                + Pattern.quote(disk.toString()) + "$").matcher(list);
        assertTrue(list, m.find());
        assertTrue("requests counted: " + list, Long.parseLong(m.group(3)) > 1000);
        assertTrue("bytes read counted: " + list, Long.parseLong(m.group(4)) >= 64L * MIB);
        assertTrue("bytes written counted: " + list, Long.parseLong(m.group(5)) >= 35L * MIB);
        assertEquals("no errors: " + list, "0", m.group(6));

        // The same counters over JMX.
        javax.management.MBeanServer jmx = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        javax.management.ObjectName on = new javax.management.ObjectName("org.aiolos:type=NbdExport,name=cm");
        assertEquals("nbd-cm", jmx.getAttribute(on, "IOThread"));
        assertEquals("127.0.0.1:" + port, jmx.getAttribute(on, "Address"));
        assertEquals((long) 32 * MIB, jmx.getAttribute(on, "Size"));
        assertTrue((Long) jmx.getAttribute(on, "Requests") >= Long.parseLong(m.group(3)));
        assertTrue((Long) jmx.getAttribute(on, "BytesWritten") >= 35L * MIB);
    }

    @Test
    public void shellExportsUpdatesRejectsAndCloses() throws Exception {
        iothread("nbd-sh");
        Path disk = image("sh.img", 16, false);
        int port = freePort();
        String uri = uri(port, "sh1");

        String out = Gogo.run(gogo, "nbd:export sh1 " + disk + " iothread=nbd-sh port=" + port);
        assertTrue(out, out.contains("sh1: created, serving " + uri + " on IOThread 'nbd-sh'"));
        assertTrue(Tools.run(30, "nbdinfo", uri).contains("export-size: " + 16 * MIB));

        // A bad update is refused before anything is stored, naming the field; the previous
        // settings keep serving and nothing stale is left in the configuration.
        out = Gogo.run(gogo, "nbd:export sh1 " + disk + " port=70000");
        assertTrue(out, out.contains("sh1: update rejected, nothing stored: port: must be 0..65535"));
        assertTrue(Tools.run(30, "qemu-img", "info", uri).contains("virtual size: 16 MiB"));
        assertFalse(Gogo.run(gogo, "nbd:list").contains("last update rejected"));
        assertTrue(Gogo.run(gogo, "nbd:export sh1").contains("port         " + port));

        // An update to a port another program holds fails at the bind, before anything is
        // stopped: a client connected meanwhile keeps being served.
        try (MiniNbdClient client = new MiniNbdClient(port, "sh1"); ServerSocket taken = new ServerSocket(0)) {
            out = Gogo.run(gogo, "nbd:export sh1 " + disk + " port=" + taken.getLocalPort());
            assertTrue(out, out.contains("sh1: update rejected") && out.contains("EADDRINUSE"));
            byte[] block = new byte[4096];
            client.sendRead(7, 0, block.length);
            assertArrayEquals(out, new long[] {7, 0}, client.reply(block));
        }

        // A good update re-exports: read-only now.
        out = Gogo.run(gogo, "nbd:export sh1 " + disk + " port=" + port + " read-only=true");
        assertTrue(out, out.contains("sh1: applied, serving " + uri));
        assertTrue(Tools.run(30, "nbdinfo", uri).contains("is_read_only: true"));
        Tools.Result write = Tools.exec(30, "qemu-io", "-f", "raw", "-c", "write 0 4k", uri);
        assertTrue(write.output(), write.exit() != 0 || write.output().contains("Operation not permitted")
                || write.output().contains("read-only") || write.output().contains("Read-only"));

        // max-connections: one client holds the only place, the next is closed at once.
        out = Gogo.run(gogo, "nbd:export sh1 " + disk + " port=" + port + " read-only=true max-connections=1");
        assertTrue(out, out.contains("sh1: applied, serving " + uri));
        try (MiniNbdClient holder = new MiniNbdClient(port, "sh1")) {
            assertTrue("refused while the place is taken", Tools.exec(30, "nbdinfo", uri).exit() != 0);
        }
        Await.until("admitted again", 10_000, () -> answers(uri));

        // A first configuration that is invalid: no export, listed with the reason.
        Path missing = dir.resolve("missing.img");
        out = Gogo.run(gogo, "nbd:export sh2 " + missing + " iothread=nbd-sh port=" + port);
        assertTrue(out, out.contains("sh2: configuration rejected, nothing stored: file: " + missing
                + " does not exist"));
        // A name clash from Config Admin directly.
        int clashPort = freePort();
        Configuration clash = export("sh1", disk, "iothread", "nbd-sh", "port", clashPort);
        assertTrue(Await.value("the clash rejected", 5_000, () -> {
            String l = run("nbd:list");
            return l.contains("name: export 'sh1' already exists") ? l : null;
        }).contains("sh1 (" + clash.getPid() + ")  rejected: name: export 'sh1' already exists"));
        // A port another program holds: refused before anything is stored, as a clashing
        // image is (no configuration in Config Admin, nothing logged as a rejected one).
        try (ServerSocket taken = new ServerSocket(0); NbdLog log = new NbdLog()) {
            out = Gogo.run(gogo, "nbd:export sh3 " + disk + " iothread=nbd-sh read-only=true port="
                    + taken.getLocalPort());
            assertTrue(out, out.contains("sh3: configuration rejected, nothing stored: port: cannot listen on 127.0.0.1:"
                    + taken.getLocalPort() + ": bind") && out.contains("EADDRINUSE") && !out.contains("tried again"));
            assertEquals(null, cm.listConfigurations("(name=sh3)"));
            assertFalse(log.all(), log.all().contains("WARNING"));
        }
        String list = Gogo.run(gogo, "nbd:list");
        System.out.println("NbdIT nbd:list with rejections\n" + list);
        assertFalse("a refused configuration is not stored", list.contains("sh2"));
        assertTrue("sh1 still serves", Tools.run(30, "nbdinfo", uri).contains("export=\"sh1\""));

        out = Gogo.run(gogo, "nbd:close sh1");
        assertTrue(out, out.contains("sh1: configuration deleted; export closed"));
        assertTrue(out, out.contains("; another configuration of 'sh1' takes the name now (" + clash.getPid()
                + "); nbd:close sh1 again closes that one"));
        Tools.Result gone = Tools.exec(30, "nbdinfo", uri);
        assertTrue("nothing serves " + uri + " now: " + gone.output(), gone.exit() != 0);
        // The configuration refused only for taking the name serves now that the name is free,
        // on its own port, without an edit: nothing in it was wrong.
        awaitServing("sh1");
        assertTrue(Tools.run(30, "nbdinfo", "nbd://127.0.0.1:" + clashPort + "/sh1").contains("export=\"sh1\""));
        // The next close deletes it, and the MBean goes with the export.
        assertTrue(Gogo.run(gogo, "nbd:close sh1").contains("sh1: configuration deleted"));
        assertTrue("the MBean went with the export", !java.lang.management.ManagementFactory.getPlatformMBeanServer()
                .isRegistered(new javax.management.ObjectName("org.aiolos:type=NbdExport,name=sh1")));
        assertTrue(Gogo.run(gogo, "nbd:close sh1").contains("sh1: no configuration to delete"));
        Gogo.run(gogo, "nbd:close sh2");
        Gogo.run(gogo, "nbd:close sh3");
    }

    @Test
    public void exportsSharingAPortShareOneListenerAndOneMayWaitForItsIOThread() throws Exception {
        iothread("nbd-share");
        int port = freePort();
        Configuration one = export("one", image("one.img", 4, false), "iothread", "nbd-share", "port", port);
        export("two", image("two.img", 8, false), "iothread", "nbd-share", "port", port);
        awaitServing("one");
        awaitServing("two");
        String listed = Tools.run(30, "nbdinfo", "--list", "nbd://127.0.0.1:" + port);
        assertTrue(listed, listed.contains("export=\"one\"") && listed.contains("export=\"two\""));

        // An update the shared listener cannot take (a handshake limit of its own) is refused
        // before the export stops: a client connected to it reads on.
        try (MiniNbdClient client = new MiniNbdClient(port, "one")) {
            java.util.Dictionary<String, Object> props = one.getProperties();
            props.put("handshake-limit", 5);
            one.update(props);
            Await.until("the update rejected", 5_000, () -> run("nbd:list").contains(
                    "last update rejected: handshake-limit: 127.0.0.1:" + port + " is served with handshake-limit="));
            byte[] block = new byte[4096];
            client.sendRead(1, 0, block.length);
            assertArrayEquals(new long[] {1, 0}, client.reply(block));
        }

        // Another IOThread on the same port is refused, naming the field.
        Configuration other = export("three", image("three.img", 4, false), "iothread", "nbd-late", "port", port);
        Await.until("three rejected", 5_000, () -> run("nbd:list").contains("three (" + other.getPid()
                + ")  rejected: iothread: 127.0.0.1:" + port + " belongs to IOThread 'nbd-share'"));

        // An export on an IOThread that does not exist yet waits, serves when it comes, and
        // waits again when it goes.
        int latePort = freePort();
        export("late", image("late.img", 4, false), "iothread", "nbd-late", "port", latePort);
        Await.until("late waiting", 5_000, () -> run("nbd:list").contains("late  waiting for IOThread 'nbd-late'"));
        // It names the IOThreads that do run, so a name that is almost right shows beside the right one.
        assertTrue(run("nbd:list"), Pattern.compile("late  waiting for IOThread 'nbd-late' \\(running: [^)]*nbd-share")
                .matcher(run("nbd:list")).find());
        assertTrue(Tools.exec(30, "nbdinfo", uri(latePort, "late")).exit() != 0);
        Configuration lateThread = iothread("nbd-late");
        awaitServing("late");
        assertTrue(Tools.run(30, "nbdinfo", uri(latePort, "late")).contains("export-size: " + 4 * MIB));
        lateThread.delete();
        Await.until("late waiting again", 5_000,
                () -> run("nbd:list").contains("late  waiting for IOThread 'nbd-late'"));
        assertTrue(Tools.exec(30, "nbdinfo", uri(latePort, "late")).exit() != 0);
        assertTrue("the others serve on", Tools.run(30, "nbdinfo", uri(port, "two")).contains("export=\"two\""));
    }

    /** A second IOThread configuration with a running one's name is refused; the first and its export go on. */
    @Test
    public void aSecondIOThreadConfigurationWithARunningNameIsRefused() throws Exception {
        Configuration first = iothread("nbd-dup");
        int port = freePort();
        export("dupx", image("dupx.img", 4, false), "iothread", "nbd-dup", "port", port);
        awaitServing("dupx");
        Configuration dup = cm.getFactoryConfiguration("org.aiolos.iothread", "nbd-dup-again", "?");
        java.util.Dictionary<String, Object> p = new java.util.Hashtable<>();
        p.put("name", "nbd-dup");
        dup.update(p);
        Await.until("the duplicate refused", 5_000, () -> run("aio:contexts").contains(
                "rejected: name: IOThread 'nbd-dup' already runs from configuration " + first.getPid()));
        assertTrue(Tools.run(30, "nbdinfo", uri(port, "dupx")).contains("export=\"dupx\""));
        dup.delete();
        Thread.sleep(500); // nothing to wait for: the deletion must change nothing
        assertTrue(run("nbd:list").matches("(?s).*dupx\\s+serving.*"));
        assertTrue(Tools.run(30, "nbdinfo", uri(port, "dupx")).contains("export=\"dupx\""));
    }

    /** Exports sharing a Unix socket share its file mode: another mode is refused, not ignored. */
    @Test
    public void exportsSharingAUnixSocketAgreeOnItsMode() throws Exception {
        iothread("nbd-unix");
        Path sock = dir.resolve("shared.sock");
        export("ua", image("ua.img", 4, false), "iothread", "nbd-unix", "socket", sock.toString(), "socket-mode", "0600");
        awaitServing("ua");
        Configuration ub = export("ub", image("ub.img", 4, false), "iothread", "nbd-unix", "socket", sock.toString(),
                "socket-mode", "0666");
        Await.until("ub rejected", 5_000, () -> run("nbd:list").contains("ub (" + ub.getPid()
                + ")  rejected: socket-mode: unix:" + sock + " is served with socket-mode=0600"));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(sock)));
        assertTrue(Tools.run(30, "nbdinfo", "nbd+unix:///ua?socket=" + sock).contains("export-size: " + 4 * MIB));
        // A socket in a folder that does not exist: the reason once, with the errno.
        Path nowhere = dir.resolve("no-such-folder/x.sock");
        Configuration uc = export("uc", image("uc.img", 4, false), "iothread", "nbd-unix", "socket", nowhere.toString());
        String listed = Await.value("uc rejected", 5_000, () -> {
            String l = run("nbd:list");
            return l.contains("uc (" + uc.getPid() + ")  rejected: socket: cannot listen on unix:" + nowhere) ? l : null;
        });
        assertTrue(listed, listed.contains("ENOENT") && !listed.contains("NBD server: cannot listen"));
    }

    /**
     * One export on two IOThreads ({@code iothreads}): served while the second is missing,
     * spread over both once it comes (multi-conn clients copy and verify through it), and
     * when the second goes, the connection it served closes while the other reads on.
     */
    @Test
    public void oneExportServedByTwoIOThreads() throws Exception {
        iothread("nbd-mq1");
        int port = freePort();
        Path disk = image("mq.img", 16, false);
        export("mq", disk, "iothread", "nbd-mq1", "iothreads", "nbd-mq2", "port", port);
        awaitServing("mq");
        Await.until("mq waits for nbd-mq2", 5_000,
                () -> run("nbd:list").contains("mq  served without IOThread 'nbd-mq2' (waiting for it)"));
        Configuration second = iothread("nbd-mq2");
        Pattern both = Pattern.compile("(?m)^mq\s+serving\s+nbd-mq1,nbd-mq2\s");
        Await.until("mq on both IOThreads", 10_000, () -> both.matcher(run("nbd:list")).find());
        String uri = uri(port, "mq");

        Path source = image("mq-source.img", 16, true);
        Tools.run(60, "nbdcopy", "--connections=4", source.toString(), uri);
        String cmp = Tools.run(60, "qemu-img", "compare", "-f", "raw", "-F", "raw", source.toString(), uri);
        assertTrue(cmp, cmp.contains("Images are identical"));
        String fio = Tools.run(120, "fio", "--name=mq", "--ioengine=nbd", "--uri=" + uri, "--rw=randwrite",
                "--bs=4k", "--iodepth=8", "--size=4m", "--numjobs=2", "--offset_increment=4m", "--verify=crc32c",
                "--do_verify=1", "--verify_fatal=1", "--randrepeat=0", "--verify_state_save=0");
        assertTrue(fio, fio.contains("err= 0") && !fio.contains("verify: bad"));

        // Two clients: one per IOThread (each goes to the one with fewer connections).
        try (MiniNbdClient a = new MiniNbdClient(port, "mq"); MiniNbdClient b = new MiniNbdClient(port, "mq")) {
            byte[] buf = new byte[4096];
            for (MiniNbdClient c : List.of(a, b)) {
                c.sendRead(1, 0, buf.length);
                assertEquals(0, c.reply(buf)[1]);
            }
            second.delete();
            rig.deleted(second);
            Await.until("mq on nbd-mq1 only", 10_000,
                    () -> Pattern.compile("(?m)^mq\\s+serving\\s+nbd-mq1\\s").matcher(run("nbd:list")).find());
            // The client nbd-mq2 served finds its connection closed; the other is served on.
            int closed = 0;
            for (MiniNbdClient c : List.of(a, b)) {
                long[] r;
                try {
                    c.sendRead(2, 4096, buf.length);
                    r = c.reply(buf);
                } catch (IOException gone) {
                    r = null;
                }
                if (r == null) {
                    closed++;
                } else {
                    assertEquals(0, r[1]);
                }
            }
            assertEquals("exactly the connection on the withdrawn IOThread closed", 1, closed);
        }
        assertTrue(Tools.run(30, "nbdinfo", uri).contains("export-size: " + 16 * MIB));
    }

    /**
     * Reads, not writes: a read request is whole once its header is in, so "received" (the
     * export's request counter) means "in flight"; a write's payload may still be arriving.
     */
    @Test
    public void requestsInFlightWhenTheIOThreadGoesAreAllAnswered() throws Exception {
        Configuration io = iothread("nbd-gone");
        int port = freePort();
        Path disk = image("gone.img", 64, true);
        export("gone", disk, "iothread", "nbd-gone", "port", port, "direct", "true", "read-only", "true");
        awaitServing("gone");
        int n = 16; // the server's limit of requests in flight per connection
        int len = 4 * MIB;
        List<long[]> replies = java.util.Collections.synchronizedList(new ArrayList<>());
        List<byte[]> data = java.util.Collections.synchronizedList(new ArrayList<>());
        long deletedAt;
        try (MiniNbdClient client = new MiniNbdClient(port, "gone")) {
            Thread reader = Thread.ofPlatform().start(() -> {
                try {
                    while (true) {
                        byte[] buf = new byte[len];
                        long[] r = client.reply(buf);
                        if (r == null) {
                            return;
                        }
                        replies.add(new long[] {r[0], r[1], System.nanoTime()});
                        data.add(buf);
                    }
                } catch (IOException e) {
                    replies.add(new long[] {-1, -1, System.nanoTime()});
                }
            });
            for (int i = 0; i < n; i++) {
                client.sendRead(i, (long) i * len, len);
            }
            // Once the server has all of them, the IOThread goes.
            // NAME STATE IOTHREAD ADDRESS ENGINE RO SIZE CONN REQUESTS
            Pattern received = Pattern.compile(
                    "(?m)^gone\\s+serving(\\s+\\S+){4}\\s+\\d+\\s+\\d+\\s+" + n + "\\s");
            Await.until("the server to receive " + n + " requests", 10_000,
                    () -> received.matcher(run("nbd:list")).find());
            deletedAt = System.nanoTime();
            io.delete();
            rig.deleted(io);
            reader.join(30_000);
        }
        long late = replies.stream().filter(r -> r[2] > deletedAt).count();
        System.out.println("NbdIT: " + replies.size() + " of " + n + " reads in flight answered when the IOThread went, "
                + late + " of them after its configuration was deleted");
        assertEquals("every request received is answered, then the connection closes", n, replies.size());
        byte[] file = Files.readAllBytes(disk);
        for (int k = 0; k < n; k++) {
            long[] r = replies.get(k);
            assertEquals("error of request " + r[0], 0, r[1]);
            int off = (int) r[0] * len;
            assertArrayEquals("request " + r[0] + "'s data", java.util.Arrays.copyOfRange(file, off, off + len),
                    data.get(k));
        }
        Await.until("gone waiting again", 5_000, () -> run("nbd:list").contains("gone  waiting for IOThread 'nbd-gone'"));
    }

    /**
     * Two writable exports of one image would corrupt it; a read-only view beside a writer is
     * fine. From the shell the second writer is refused before anything is stored, as the
     * shell says: no configuration appears, and the log has no rejected stored configuration
     * (nor, so, a console notice of one).
     */
    @Test
    public void aSecondWritableExportOfOneImageIsRefusedAReadOnlyOneIsNot() throws Exception {
        iothread("nbd-img");
        Path img = image("shared.img", 4, false);
        int port = freePort();
        export("w1", img, "iothread", "nbd-img", "port", port);
        awaitServing("w1");
        Configuration w2 = export("w2", img, "iothread", "nbd-img", "port", port);
        Await.until("w2 refused", 5_000, () -> {
            String l = run("nbd:list");
            return l.contains("w2 (" + w2.getPid() + ")  rejected: file: ") && l.contains(
                    " is already exported writable as 'w1'");
        });
        try (NbdLog log = new NbdLog()) {
            String out = run("nbd:export q1 " + img + " iothread=nbd-img port=" + freePort());
            assertTrue(out, out.contains("q1: configuration rejected, nothing stored: file: " + img + " is already"
                    + " exported writable as 'w1'"));
            assertEquals(null, cm.listConfigurations("(name=q1)"));
            assertFalse(run("nbd:list"), run("nbd:list").contains("q1"));
            assertFalse(log.all(), log.all().contains("WARNING"));
        }
        export("r1", img, "iothread", "nbd-img", "port", port, "read-only", true);
        awaitServing("r1");
        assertTrue(Tools.run(30, "nbdinfo", uri(port, "r1")).contains("is_read_only: true"));
    }

    /**
     * An export refused because another held its port on another IOThread is served once
     * that one goes, without an edit of its own configuration (nothing in it was wrong).
     */
    @Test
    public void anExportRefusedForAnothersListenerIsServedWhenThatOneGoes() throws Exception {
        iothread("nbd-pa");
        iothread("nbd-pb");
        int port = freePort();
        Configuration pa = export("pa", image("pa.img", 4, false), "iothread", "nbd-pa", "port", port);
        awaitServing("pa");
        Configuration pb = export("pb", image("pb.img", 4, false), "iothread", "nbd-pb", "port", port);
        Await.until("pb refused", 5_000, () -> run("nbd:list").contains("pb (" + pb.getPid() + ")  rejected: iothread: "));
        pa.delete();
        rig.deleted(pa);
        assertServedWithoutRejections("pb", port);
    }

    /** {@code name} comes to serve on {@code port}, and no configuration is listed as rejected any more. */
    private void assertServedWithoutRejections(String name, int port) throws Exception {
        awaitServing(name);
        assertTrue(Tools.run(30, "nbdinfo", uri(port, name)).contains("export=\"" + name + "\""));
        assertFalse(run("nbd:list"), run("nbd:list").contains("rejected"));
    }

    /**
     * An export whose port another program holds is tried again until that program lets
     * go, then served without an edit: nothing in its configuration was wrong. The listing
     * says it is being tried.
     */
    @Test
    public void anExportWhosePortIsTakenIsServedWhenItIsFreed() throws Exception {
        iothread("nbd-pt");
        Configuration pt;
        int port;
        try (java.net.ServerSocket taken = new java.net.ServerSocket()) {
            taken.setReuseAddress(true);
            taken.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
            port = taken.getLocalPort();
            pt = export("pt", image("pt.img", 4, false), "iothread", "nbd-pt", "port", port);
            Await.until("pt refused for its port", 5_000, () -> {
                String l = run("nbd:list");
                return l.contains("pt (" + pt.getPid() + ")  rejected: port: cannot listen on 127.0.0.1:" + port)
                        && l.contains("EADDRINUSE") && l.contains("(tried again every 2 s)");
            });
        }
        assertServedWithoutRejections("pt", port);
    }

    /**
     * An export that waits for its IOThread says so in the log, whether a new configuration
     * or an update moved it to an IOThread that does not run, rather than that it is served.
     */
    @Test
    public void anExportWaitingForItsIOThreadSaysSoInTheLog() throws Exception {
        iothread("nbd-wt");
        int port = freePort();
        Path img = image("wt.img", 1, false);
        try (NbdLog log = new NbdLog()) {
            Configuration wt = export("wt", img, "iothread", "nbd-wt", "port", port);
            awaitServing("wt");
            java.util.Dictionary<String, Object> moved = wt.getProperties();
            moved.put("iothread", "nbd-wt-nosuch");
            wt.update(moved);
            export("wn", image("wn.img", 1, false), "iothread", "nbd-wn-nosuch", "port", freePort());
            Await.until(() -> "both waits logged:\n" + log.all(), 5_000, () -> log.all().contains(
                    "INFO NBD export 'wt' stopped: its configuration changed; with the new settings it waits for"
                            + " IOThread 'nbd-wt-nosuch' (running: ") && log.all().contains(
                    "INFO NBD export 'wn' waits for IOThread 'nbd-wn-nosuch' (running: "));
            assertFalse(log.all(), log.all().contains("it is served again with the new settings"));
        }
    }

    /**
     * An export whose image does not exist yet (being created or copied) is tried again and
     * served once the file is there, without an edit: FileInstall sends nothing when only
     * the image changes. A folder in its place stays a plain rejection.
     */
    @Test
    public void anExportWhoseImageAppearsLaterIsServed() throws Exception {
        iothread("nbd-late");
        int port = freePort();
        Path later = dir.resolve("later.img");
        Configuration lt = export("late-img", later, "iothread", "nbd-late", "port", port);
        Files.createDirectory(dir.resolve("folder.img"));
        Configuration fo = export("folder-img", dir.resolve("folder.img"), "iothread", "nbd-late", "port", port);
        Await.until(() -> "both refused; nbd:list:\n" + run("nbd:list"), 5_000, () -> {
            String l = run("nbd:list");
            return l.contains("late-img (" + lt.getPid() + ")  rejected: file: " + later + " does not exist (tried"
                    + " again every 2 s)") && l.contains("folder-img (" + fo.getPid() + ")  rejected: file: ");
        });
        image("later.img", 1, false);
        awaitServing("late-img");
        assertTrue(Tools.run(30, "nbdinfo", uri(port, "late-img")).contains("export=\"late-img\""));
        String list = run("nbd:list");
        assertTrue(list, list.contains("folder-img (" + fo.getPid() + ")  rejected: file: " + dir.resolve("folder.img")
                + " is not a regular file") && !list.contains("is not a regular file (tried"));
    }

    /**
     * nbd:export given the name a configuration is stored under (its file's, here the rig's
     * PID suffix) while it configures another export refuses, rather than renaming that
     * export and cutting off its clients.
     */
    @Test
    public void exportByAConfigurationsOtherNameRefusesToRenameIt() throws Exception {
        iothread("nbd-alias");
        int port = freePort();
        Path img = image("real.img", 4, false);
        Configuration c = export("real", img, "iothread", "nbd-alias", "port", port);
        awaitServing("real");
        String alias = c.getPid().substring(c.getPid().indexOf('~') + 1);
        String out = run("nbd:export " + alias + " " + img + " description=y");
        assertTrue(out, out.contains("name: configuration " + c.getPid() + " configures export 'real' (name=real),"
                + " and '" + alias + "' would rename it; change that one with nbd:export real"));
        assertEquals("real", c.getProperties().get("name"));
        // Shown and closed by its own name only: the file's name neither shows nor closes it.
        assertTrue(run("nbd:export " + alias).startsWith(alias + ": no export of that name is configured; "));
        out = run("nbd:close " + alias);
        assertTrue(out, out.startsWith(alias + ": no export of that name to close; ") && out.endsWith(
                "configures export 'real' (name=real): nbd:close real closes it"));
        assertTrue(Tools.run(30, "nbdinfo", uri(port, "real")).contains("export=\"real\""));
    }

    @Test
    public void anExportOnANamedEngineKeepsServingWhileItsBundleIsStopped() throws Exception {
        iothread("nbd-engine");
        int port = freePort();
        String uri = uri(port, "aio");
        export("aio", image("aio.img", 4, false), "iothread", "nbd-engine", "port", port, "engine", "native");
        awaitServing("aio");
        String write = Tools.run(30, "qemu-io", "-f", "raw", "-c", "write -P 2 0 64k", uri);
        assertTrue(write, write.contains("wrote 65536/65536"));
        assertTrue(run("nbd:list"), Pattern.compile("(?m)^aio\\s+serving\\s+nbd-engine\\s+\\S+\\s+native\\s")
                .matcher(run("nbd:list")).find());
        org.osgi.framework.Bundle linuxAio = Backends.bundleNamed(bc, "org.aiolos.linuxaio");
        linuxAio.stop();
        try {
            // The export runs on the best available engine meanwhile, and says so.
            String io = Tools.run(30, "qemu-io", "-f", "raw", "-c", "read -P 2 0 64k", "-c", "write -P 3 0 64k",
                    "-c", "read -P 3 0 64k", uri);
            assertTrue(io, !io.contains("Pattern verification failed") && io.contains("read 65536/65536"));
            String contexts = run("aio:contexts");
            assertTrue(contexts, contexts.contains("configured aio-engine 'native' is not available"));
            assertTrue(contexts, contexts.contains("(configured: native) for export 'aio'"));
            assertTrue(run("nbd:list"), Pattern.compile("(?m)^aio\\s+serving\\s").matcher(run("nbd:list")).find());
        } finally {
            linuxAio.start();
        }
        Await.until("aio back on native", 10_000, () -> {
            try {
                Tools.exec(30, "qemu-io", "-f", "raw", "-c", "read -P 3 0 64k", uri);
            } catch (IOException | InterruptedException e) {
                throw new AssertionError(e);
            }
            return Pattern.compile("(?m)^aio\\s+serving\\s+nbd-engine\\s+\\S+\\s+native\\s").matcher(run("nbd:list"))
                    .find();
        });
    }

    @Test
    public void backendSwapsWhileACopyRunsLoseNothing() throws Exception {
        iothread("nbd-swap");
        AiolosContext ctx = (AiolosContext) Contexts.await(bc, "nbd-swap");
        int port = freePort();
        Path disk = image("swap.img", 128, false);
        export("swap", disk, "iothread", "nbd-swap", "port", port);
        awaitServing("swap");
        String uri = uri(port, "swap");
        Path source = image("swap-source.img", 128, true);

        String[][] swaps = {{"fdmon", "epoll"}, {"aio-engine", "threads"}, {"fdmon", "poll"},
            {"aio-engine", "native"}, {"fdmon", "io_uring"}, {"aio-engine", "io_uring"}};
        AtomicInteger during = new AtomicInteger();
        long monitorSwaps = ctx.stats().monitorSwaps();
        for (String direction : new String[] {"in", "out"}) {
            Path target = dir.resolve("swap-out.img");
            ProcessBuilder pb = direction.equals("in")
                    ? new ProcessBuilder("nbdcopy", "--connections=1", "--requests=4", source.toString(), uri)
                    : new ProcessBuilder("nbdcopy", "--connections=1", "--requests=4", uri, target.toString());
            Process copy = pb.redirectErrorStream(true).start();
            for (int i = 0; copy.isAlive(); i++) {
                String[] s = swaps[i % swaps.length];
                String out = Gogo.run(gogo, "aio:use nbd-swap " + s[0] + " " + s[1]);
                assertTrue(out, out.startsWith("nbd-swap: "));
                if (copy.isAlive()) {
                    during.incrementAndGet();
                }
                Thread.sleep(20);
            }
            String output = new String(copy.getInputStream().readAllBytes());
            assertEquals("nbdcopy " + direction + ": " + output, 0, copy.waitFor());
            if (direction.equals("out")) {
                assertArrayEquals("the copy out equals the source", Files.readAllBytes(source),
                        Files.readAllBytes(target));
            }
        }
        String cmp = Tools.run(60, "qemu-img", "compare", "-f", "raw", "-F", "raw", source.toString(), uri);
        assertTrue(cmp, cmp.contains("Images are identical"));
        System.out.println("NbdIT: " + during.get() + " backend swaps while nbdcopy ran (" + (ctx.stats().monitorSwaps()
                - monitorSwaps) + " fd-monitor swaps in all); the copies compare equal");
        assertTrue("swaps happened while the copies ran: " + during.get(), during.get() >= 2);
    }

    @Test
    public void closingExportsLeavesFdAndThreadCountsFlat() throws Exception {
        // One pool worker at most: the threads engine's worker that the warm-up starts stays
        // (its idle timeout is 10 s), and no second one appears because two requests overlap.
        iothread("nbd-leak", "thread-pool-max", "1");
        Path disk = image("leak.img", 8, false);
        round(disk, 0); // warm-up: classes, the engine's and pool's lazily started resources
        ProcessCounts before = ProcessCounts.settled();
        List<String> threadsBefore = threadNames();
        for (int i = 1; i <= 5; i++) {
            round(disk, i);
        }
        ProcessCounts after = ProcessCounts.settled();
        List<String> grown = threadNames();
        threadsBefore.forEach(grown::remove); // one occurrence each: names repeat
        System.out.println("NbdIT: 5 rounds of 3 exports made, used and closed; before: " + before + "; after: "
                + after + "; threads new by name: " + grown);
        assertTrue("open fds grew: " + before + " -> " + after + " (" + after.grownSince(before) + ")", after.fds() <= before.fds());
        // By name, less the JDK's "process reaper" threads: the clients this test starts as
        // processes bring those (a cached pool), not the exports.
        grown.removeIf(n -> n.equals("process reaper"));
        assertTrue("JVM threads grew: " + before + " -> " + after + ", new: " + grown, grown.isEmpty());
    }

    private static List<String> threadNames() {
        List<String> names = new ArrayList<>();
        Thread.getAllStackTraces().keySet().forEach(t -> names.add(t.getName()));
        return names;
    }

    // ---------------------------------------------------------------- helpers

    /** Three exports (two sharing a port), each read and written by a client, then closed. */
    private void round(Path disk, int i) throws Exception {
        int shared = freePort();
        int own = freePort();
        List<Configuration> confs = List.of(
                export("leak-a" + i, disk, "iothread", "nbd-leak", "port", shared, "read-only", "true"),
                export("leak-b" + i, disk, "iothread", "nbd-leak", "port", shared, "read-only", "true"),
                export("leak-c" + i, disk, "iothread", "nbd-leak", "port", own, "engine", "threads"));
        for (String name : new String[] {"leak-a" + i, "leak-b" + i, "leak-c" + i}) {
            awaitServing(name);
        }
        Tools.run(30, "qemu-io", "-f", "raw", "-c", "write -P 7 0 64k", "-c", "read -P 7 0 64k", uri(own, "leak-c" + i));
        Tools.run(30, "qemu-img", "compare", "-f", "raw", "-F", "raw", uri(shared, "leak-a" + i),
                uri(shared, "leak-b" + i));
        for (Configuration c : confs) {
            c.delete();
            rig.deleted(c);
        }
        Await.until("round " + i + " closed", 5_000, () -> !run("nbd:list").contains("leak-"));
    }

    private Configuration iothread(String name, String... keyValues) throws Exception {
        return rig.iothread(name, keyValues);
    }

    /** Whether nbdinfo reaches {@code uri} now. */
    private static boolean answers(String uri) {
        try {
            return Tools.exec(30, "nbdinfo", uri).exit() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Configurations refused for a name or an image another one served do not take it when
     * the bundle starts again, whichever order Config Admin hands them over in (the holders
     * are made under PIDs sorting first in two cases and last in the other two): the
     * holders serve their own images, and the refused ones are never served meanwhile. The
     * bundle's data area outlives its restart, as the framework cache outlives a restart
     * of the distribution without {@code --clean}.
     */
    @Test
    public void theExportThatServedKeepsItsNameAndImageAcrossARestart() throws Exception {
        iothread("nbd-keep");
        int port = freePort();
        Path n1 = image("n1-held.img", 1, false);
        Path n2 = image("n2-held.img", 1, false);
        Path f1 = image("f1.img", 1, false);
        Path f2 = image("f2.img", 1, false);
        rig.exportAs("aaa-keep-n1", "keep-n1", n1, "iothread", "nbd-keep", "port", port);
        rig.exportAs("zzz-keep-n2", "keep-n2", n2, "iothread", "nbd-keep", "port", port);
        rig.exportAs("aaa-keep-f1", "keep-f1", f1, "iothread", "nbd-keep", "port", port);
        rig.exportAs("zzz-keep-f2", "keep-f2", f2, "iothread", "nbd-keep", "port", port);
        for (String held : List.of("keep-n1", "keep-n2", "keep-f1", "keep-f2")) {
            awaitServing(held);
        }
        // Each claimant asks for a held name (with another image) or a held image (under another name).
        rig.exportAs("zzz-claim-n1", "keep-n1", image("n1-other.img", 1, false), "iothread", "nbd-keep", "port", port);
        rig.exportAs("aaa-claim-n2", "keep-n2", image("n2-other.img", 1, false), "iothread", "nbd-keep", "port", port);
        rig.exportAs("zzz-claim-f1", "claim-f1", f1, "iothread", "nbd-keep", "port", port);
        rig.exportAs("aaa-claim-f2", "claim-f2", f2, "iothread", "nbd-keep", "port", port);
        Await.until(() -> "four claimants refused; nbd:list:\n" + run("nbd:list"), 10_000,
                () -> count(run("nbd:list"), "rejected: ") == 4);

        Bundle nbd = bundle("org.aiolos.nbd");
        try (NbdLog log = new NbdLog()) {
            nbd.stop();
            nbd.start();
            for (String held : List.of("keep-n1", "keep-n2", "keep-f1", "keep-f2")) {
                awaitServingAfterRestart(held);
            }
            Await.until(() -> "four claimants refused again; nbd:list:\n" + run("nbd:list"), 10_000,
                    () -> count(run("nbd:list"), "rejected: ") == 4);
            String list = run("nbd:list");
            assertTrue(list, servedFile(list, "keep-n1").endsWith("n1-held.img"));
            assertTrue(list, servedFile(list, "keep-n2").endsWith("n2-held.img"));
            assertTrue(list, servedFile(list, "keep-f1").endsWith("f1.img"));
            assertTrue(list, servedFile(list, "keep-f2").endsWith("f2.img"));
            assertTrue(list, list.contains("claim-f1 (org.aiolos.nbd.export~zzz-claim-f1)  rejected: file: "));
            assertTrue(list, list.contains("claim-f2 (org.aiolos.nbd.export~aaa-claim-f2)  rejected: file: "));
            assertTrue(Tools.run(30, "nbdinfo", uri(port, "keep-n2")).contains("export=\"keep-n2\""));
            // Not even for a moment: the holders were announced again, no claimant ever was.
            assertTrue(log.all(), log.all().contains("nbd: export 'keep-n1' of " + n1 + " at "));
            for (String line : log.lines()) {
                assertFalse(log.all(), line.contains("nbd: export '") && (line.contains("-other.img")
                        || line.contains("'claim-f")));
            }
        }
    }

    /** The FILE column of {@code name}'s row in {@code nbd:list}. */
    private static String servedFile(String list, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\s+serving\\s.*\\s(\\S+)$").matcher(list);
        assertTrue(list, m.find());
        return m.group(1);
    }

    private void awaitServingAfterRestart(String name) throws InterruptedException {
        // The nbd commands come back with the bundle: until then the shell does not know them.
        Await.until(() -> name + " serving again; nbd:list:\n" + run("nbd:list"), 15_000, () -> {
            try {
                return Pattern.compile("(?m)^" + Pattern.quote(name) + "\\s+serving\\s")
                        .matcher(Gogo.run(gogo, "nbd:list")).find();
            } catch (Exception notYet) {
                return false;
            }
        });
    }

    private Bundle bundle(String symbolicName) {
        for (Bundle b : bc.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("no bundle " + symbolicName);
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    private Configuration export(String name, Path file, Object... keyValues) throws Exception {
        return rig.export(name, file, keyValues);
    }

    private void awaitServing(String name) throws InterruptedException {
        rig.awaitServing(name);
    }

    private String run(String command) {
        return rig.run(command);
    }

    private Path image(String name, int mib, boolean random) throws IOException {
        return rig.image(name, mib, random);
    }

    private static byte byteAt(Path f, long offset) throws IOException {
        return NbdRig.byteAt(f, offset);
    }

    private static String uri(int port, String name) {
        return NbdRig.uri(port, name);
    }

    private static int freePort() throws IOException {
        return NbdRig.freePort();
    }
}
