package org.aiolos.itests;

import static org.aiolos.itests.RuntimeIT.props;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.inject.Inject;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.RuntimeMBeanException;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
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
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * What an operator sees and does without the shell: the Flight Recorder events of the
 * bundles (rejected IOThread and export configurations, a slow loop iteration, NBD
 * requests made by qemu-io) recorded with {@link Recording} in the running container and
 * read back from the file; and the MBean operations (swap a context's fd monitor and disk
 * engine, set its poll parameters, disconnect an export's clients, close an export)
 * invoked through the platform MBean server, as jconsole or any JMX client would.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ObservabilityIT {
    private static final int MIB = 1 << 20;

    @Inject
    BundleContext bc;
    @Inject
    ConfigurationAdmin cm;
    @Inject
    CommandProcessor gogo;

    private final MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
    private final List<Configuration> made = new ArrayList<>();
    private Path dir;

    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        return Setup.container();
    }

    @Before
    public void setUp() throws IOException {
        Tools.requireAll(List.of("qemu-io", "nbdinfo"));
        dir = Files.createTempDirectory("observability-it");
    }

    @After
    public void cleanUp() throws Exception {
        Gogo.run(gogo, "nbd:close obs");
        Gogo.run(gogo, "nbd:close ops");
        for (Configuration c : made.reversed()) {
            try {
                c.delete();
            } catch (IllegalStateException alreadyDeleted) {
                // the test deleted it
            }
        }
        made.clear();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }

    // ---------------------------------------------------------------- JFR

    @Test
    public void flightRecorderEventsOfRejectionsSlowIterationsAndNbdRequestsAreReadBack() throws Exception {
        Path file = dir.resolve("aiolos.jfr");
        int port = freePort();
        String[] servingAfterSwaps = new String[2]; // the engine and the monitor
        try (Recording r = new Recording()) {
            r.enable("org.aiolos.IOThreadConfigurationRejected");
            r.enable("org.aiolos.nbd.ExportConfigurationRejected");
            r.enable("org.aiolos.SlowLoopIteration").withThreshold(Duration.ofMillis(20));
            r.enable("org.aiolos.nbd.Request").withThreshold(Duration.ZERO);
            r.enable("org.aiolos.BackendSwap");
            r.start();

            Configuration io = iothread("obs-io");
            AiolosContext ctx = (AiolosContext) Contexts.await(bc, "obs-io");
            io.update(props("name", "obs-io", "thread-pool-min", "9", "thread-pool-max", "3"));
            Await.until("the update rejected", 5_000,
                    () -> Contexts.ref(bc, "obs-io").getProperty("aiolos.rejected") != null);
            Configuration bad = iothreadConfig("obs-bad", "fdmon", "kqueue");
            Await.until("obs-bad listed as rejected", 5_000,
                    () -> run("aio:contexts").contains("obs-bad  no IOThread"));
            bad.delete();
            made.removeIf(m -> m == bad); // equals() of a deleted configuration throws

            ctx.scheduleOneshot("obs-slow", () -> sleep(60));

            Path disk = image("obs.img", 4);
            String out = run("nbd:export obs " + disk + " iothread=obs-io port=" + port);
            assertTrue(out, out.contains("obs: created, serving"));
            String io1 = Tools.run(30, "qemu-io", "-f", "raw", "-c", "write -P 0x3c 64k 128k", "-c",
                    "read -P 0x3c 64k 128k", uri(port, "obs"));
            assertFalse(io1, io1.contains("Pattern verification failed"));
            String engineBefore = ctx.diskEngineName();
            String engineAfter = "threads".equals(engineBefore) ? "native" : "threads";
            out = run("aio:use obs-io aio-engine " + engineAfter);
            assertTrue(out, out.startsWith("obs-io: aio-engine " + engineAfter));
            String monitorBefore = ctx.fdMonitorName();
            String monitorAfter = "epoll".equals(monitorBefore) ? "poll" : "epoll";
            out = run("aio:use obs-io fdmon " + monitorAfter);
            assertTrue(out, out.contains(monitorAfter) && out.contains("(obs-io's configuration says fdmon=")
                    && out.contains("this switch lasts until that configuration changes or obs-io restarts"));
            String io2 = Tools.run(30, "qemu-io", "-f", "raw", "-c", "read -P 0x3c 64k 128k", uri(port, "obs"));
            assertFalse(io2, io2.contains("Pattern verification failed"));
            servingAfterSwaps[0] = ctx.diskEngineName();
            servingAfterSwaps[1] = ctx.fdMonitorName();
            out = run("nbd:export obs " + disk + " port=70000");
            assertTrue(out, out.contains("update rejected") && out.contains("port: must be 0..65535"));
            ObjectName obs = exportName("obs");
            Await.until("qemu-io's connection closed on the server", 5_000, () -> longAttr(obs, "Connections") == 0);

            r.stop();
            r.dump(file);
        }
        Map<String, List<RecordedEvent>> byType = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().startsWith("org.aiolos."))
                .collect(Collectors.groupingBy(e -> e.getEventType().getName()));
        System.out.println("ObservabilityIT: events recorded in the container: " + byType.entrySet().stream()
                .map(e -> e.getKey() + " x" + e.getValue().size()).toList());

        List<RecordedEvent> ioRejected = byType.get("org.aiolos.IOThreadConfigurationRejected");
        assertEquals(String.valueOf(ioRejected), 2, ioRejected.size());
        RecordedEvent update = ioRejected.stream().filter(e -> e.getBoolean("update")).findFirst().orElseThrow();
        assertEquals("obs-io", update.getString("name"));
        assertEquals("thread-pool-min/thread-pool-max", update.getString("fields"));
        assertTrue(update.getString("message"), update.getString("message").contains("thread-pool-min"));
        assertTrue(update.getString("pid"), update.getString("pid").startsWith("org.aiolos.iothread"));
        RecordedEvent first = ioRejected.stream().filter(e -> !e.getBoolean("update")).findFirst().orElseThrow();
        assertEquals("obs-bad", first.getString("name"));
        assertEquals("fdmon", first.getString("fields"));

        List<RecordedEvent> exportRejected = byType.get("org.aiolos.nbd.ExportConfigurationRejected");
        assertEquals(String.valueOf(exportRejected), 1, exportRejected.size());
        assertEquals("obs", exportRejected.get(0).getString("name"));
        assertEquals("port", exportRejected.get(0).getString("fields"));
        assertTrue(exportRejected.get(0).getBoolean("update"));

        RecordedEvent slow = byType.get("org.aiolos.SlowLoopIteration").stream()
                .filter(e -> e.getString("context").equals("obs-io") && e.getLong("bottomHalves") >= 1)
                .findFirst().orElseThrow(() -> new AssertionError("no slow iteration of obs-io: " + byType));
        assertTrue(slow.toString(), slow.getDuration("bottomHalfTime").toMillis() >= 60);
        assertTrue(slow.getThread().getJavaName(), slow.getThread().getJavaName().contains("obs-io"));

        List<RecordedEvent> swaps = byType.get("org.aiolos.BackendSwap");
        assertTrue(String.valueOf(swaps), swaps != null && swaps.stream().anyMatch(e -> e.getString("context")
                .equals("obs-io") && e.getString("kind").equals("aio-engine") && e.getString("to").equals(
                servingAfterSwaps[0]) && !e.getString("from").isEmpty() && !e.getString("reason").isEmpty()));
        assertTrue(String.valueOf(swaps), swaps.stream().anyMatch(e -> e.getString("context").equals("obs-io")
                && e.getString("kind").equals("fdmon") && e.getString("to").equals(servingAfterSwaps[1])));

        List<RecordedEvent> requests = byType.get("org.aiolos.nbd.Request");
        assertTrue(String.valueOf(requests), requests.stream().anyMatch(e -> e.getString("command").equals("WRITE")
                && e.getLong("offset") == 64 * 1024 && e.getLong("length") == 128 * 1024 && e.getInt("error") == 0));
        assertTrue(String.valueOf(requests), requests.stream().anyMatch(e -> e.getString("command").equals("READ")
                && e.getLong("offset") == 64 * 1024 && e.getLong("length") == 128 * 1024));
        assertTrue(requests.stream().allMatch(e -> e.getString("export").equals("obs")
                && e.getString("client").startsWith("127.0.0.1:")));
    }

    // ---------------------------------------------------------------- MBean operations

    @Test
    public void aioContextMBeanOperationsSwapBackendsAndSetPolling() throws Exception {
        iothread("obs-mb", "fdmon", "poll");
        AiolosContext ctx = (AiolosContext) Contexts.await(bc, "obs-mb");
        ObjectName on = new ObjectName("org.aiolos:type=AioContext,name=obs-mb");
        Await.until("obs-mb on poll", 5_000, () -> "poll".equals(attr(on, "FdMonitor")));

        String out = (String) invoke(on, "useFdMonitor", "epoll");
        assertTrue(out, out.startsWith("obs-mb: fd monitor epoll"));
        assertEquals("epoll", attr(on, "FdMonitor"));
        assertEquals("epoll", ctx.fdMonitorName());
        assertOperationRejected(on, "useFdMonitor", new Object[] {"kqueue"},
                "unknown fd monitor 'kqueue'; use poll, epoll, io_uring or auto");
        assertEquals("epoll", attr(on, "FdMonitor"));

        jmx.invoke(on, "setPollParams", new Object[] {1000L, 4L, 2L}, new String[] {"long", "long", "long"});
        assertEquals(1000L, attr(on, "PollMaxNs"));
        assertEquals(4L, attr(on, "PollGrow"));
        assertEquals(2L, attr(on, "PollShrink"));
        assertOperationRejected(on, "setPollParams", new Object[] {1000L, -4L, 2L},
                "poll-grow value must be in range [0, " + Long.MAX_VALUE + "], got -4");
        assertEquals("unchanged", 4L, attr(on, "PollGrow"));

        // The disk engine, seen through an export's I/O: requests after the switch use it.
        int port = freePort();
        String created = run("nbd:export ops " + image("ops.img", 4) + " iothread=obs-mb port=" + port);
        assertTrue(created, created.contains("ops: created, serving"));
        for (String engine : new String[] {"threads", "io_uring"}) {
            out = (String) invoke(on, "useDiskEngine", engine);
            assertTrue(out, out.startsWith("obs-mb: aio-engine ") && out.contains(engine));
            Tools.run(30, "qemu-io", "-f", "raw", "-c", "write -P 7 0 64k", "-c", "read -P 7 0 64k",
                    uri(port, "ops"));
            Await.until("obs-mb on " + engine, 5_000, () -> engine.equals(attr(on, "DiskEngine")));
        }
        assertOperationRejected(on, "useDiskEngine", new Object[] {"posix"},
                "unknown disk-I/O engine 'posix'; use threads, native, io_uring or auto");
        out = (String) invoke(on, "useFdMonitor", "auto");
        assertTrue(out, out.startsWith("obs-mb: fd monitor "));
    }

    @Test
    public void nbdExportMBeanDisconnectsClientsAndClosesTheExport() throws Exception {
        iothread("obs-nbd");
        int port = freePort();
        String out = run("nbd:export ops " + image("ops.img", 4) + " iothread=obs-nbd port=" + port);
        assertTrue(out, out.contains("ops: created, serving"));
        ObjectName on = exportName("ops");
        assertTrue(String.valueOf(attr(on, "ConfigurationPid")),
                String.valueOf(attr(on, "ConfigurationPid")).startsWith("org.aiolos.nbd.export"));

        try (MiniNbdClient a = new MiniNbdClient(port, "ops"); MiniNbdClient b = new MiniNbdClient(port, "ops")) {
            Await.until("two clients connected", 5_000, () -> longAttr(on, "Connections") == 2);
            assertEquals(2, invoke(on, "disconnectClients"));
            assertEquals("the server closed a's connection", null, a.reply(new byte[0]));
            assertEquals("the server closed b's connection", null, b.reply(new byte[0]));
        }
        Await.until("no connections left", 5_000, () -> longAttr(on, "Connections") == 0);
        String info = Tools.run(30, "nbdinfo", uri(port, "ops"));
        assertTrue("the export still serves new clients: " + info, info.contains("export-size: " + 4 * MIB));

        out = (String) invoke(on, "close");
        assertEquals("ops: configuration deleted; export closed", out);
        assertFalse("the MBean went with the export", jmx.isRegistered(on));
        assertTrue("nothing serves it", Tools.exec(30, "nbdinfo", uri(port, "ops")).exit() != 0);
        assertTrue(run("nbd:export ops").contains("ops: no configuration"));
    }

    // ---------------------------------------------------------------- helpers

    private Object invoke(ObjectName on, String op, String arg) throws Exception {
        return jmx.invoke(on, op, new Object[] {arg}, new String[] {String.class.getName()});
    }

    private Object invoke(ObjectName on, String op) throws Exception {
        return jmx.invoke(on, op, new Object[0], new String[0]);
    }

    /** JMX hands the operation's IllegalArgumentException to the client, message intact. */
    private void assertOperationRejected(ObjectName on, String op, Object[] args, String message) throws Exception {
        String[] sig = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            sig[i] = args[i] instanceof Long ? "long" : String.class.getName();
        }
        try {
            jmx.invoke(on, op, args, sig);
            fail(op + " accepted " + java.util.Arrays.toString(args));
        } catch (RuntimeMBeanException e) {
            assertTrue(String.valueOf(e.getCause()), e.getCause() instanceof IllegalArgumentException);
            assertEquals(message, e.getCause().getMessage());
        }
    }

    private Object attr(ObjectName on, String name) {
        try {
            return jmx.getAttribute(on, name);
        } catch (Exception e) {
            return null;
        }
    }

    private long longAttr(ObjectName on, String name) {
        return attr(on, name) instanceof Number n ? n.longValue() : -1;
    }

    private static ObjectName exportName(String name) throws Exception {
        return new ObjectName("org.aiolos:type=NbdExport,name=" + name);
    }

    private Configuration iothread(String name, String... keyValues) throws Exception {
        Configuration c = iothreadConfig(name, keyValues);
        Contexts.await(bc, name);
        return c;
    }

    private Configuration iothreadConfig(String name, String... keyValues) throws Exception {
        Configuration c = cm.getFactoryConfiguration("org.aiolos.iothread", name, "?");
        String[] kv = new String[keyValues.length + 2];
        kv[0] = "name";
        kv[1] = name;
        System.arraycopy(keyValues, 0, kv, 2, keyValues.length);
        c.update(props(kv));
        made.add(c);
        return c;
    }

    private String run(String command) {
        try {
            return Gogo.run(gogo, command);
        } catch (Exception e) {
            throw new AssertionError(command + ": " + e, e);
        }
    }

    private Path image(String name, int mib) throws IOException {
        Path f = dir.resolve(name);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength((long) mib * MIB);
        }
        return f;
    }

    private static String uri(int port, String name) {
        return "nbd://127.0.0.1:" + port + "/" + name;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
