package org.aiolos.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.inject.Inject;
import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
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
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Hitless backends, proved under NBD load that checks every answer ({@link VerifiedLoad}:
 * fio with crc32c verification, and qemu-io rounds of WRITE, READ, WRITE_ZEROES, TRIM,
 * BLOCK_STATUS and FLUSH): every backend bundle updated and refreshed, stopped and
 * started, uninstalled and reinstalled; a named backend's bundle stopped and started;
 * Config Admin restarted; SCR restarted; and disk-engine swaps requested from inside
 * completions every few milliseconds. Each event: no failed client request, the data
 * identical, fd and thread counts flat, and neither core nor the IOThread nor the export
 * restarted except where the event asks for it.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HitlessIT {
    private static final String[] BACKEND_BUNDLES = {"org.aiolos.fdmon.poll", "org.aiolos.fdmon.epoll",
        "org.aiolos.fdmon.iouring", "org.aiolos.threadpool", "org.aiolos.linuxaio", "org.aiolos.diskio.iouring"};
    private static final long SWAP_SECONDS = Long.getLong("aiolos.hitless.swap.seconds", 60);

    @Inject
    BundleContext bc;
    @Inject
    ConfigurationAdmin cm;
    @Inject
    CommandProcessor gogo;

    private NbdRig rig;
    private String uri;
    private Path disk;

    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        return Setup.container();
    }

    @Before
    public void setUp() throws Exception {
        Tools.requireAll(List.of("qemu-img", "qemu-io", "fio"));
        rig = new NbdRig(bc, cm, gogo, "hitless-it");
    }

    @After
    public void tearDown() throws Exception {
        rig.close();
    }

    /** An IOThread and an export on it (O_DIRECT, so every engine does real disk I/O). */
    private void serve(String name, String... iothreadSettings) throws Exception {
        rig.iothread(name, iothreadSettings);
        disk = rig.image(name + ".img", 16, true);
        int port = NbdRig.freePort();
        rig.export(name, disk, "iothread", name, "port", port, "direct", "true");
        rig.awaitServing(name);
        uri = NbdRig.uri(port, name);
    }

    /** What must not change across an event that does not ask for it. */
    private record Identity(long contextServiceId, Object context, BundleWiring coreWiring) {
    }

    private Identity identity(String iothread) {
        ServiceReference<AioContext> ref = Contexts.ref(bc, iothread);
        assertNotNull("IOThread " + iothread + " is a service", ref);
        Bundle core = Backends.bundleNamed(bc, "org.aiolos.core");
        return new Identity((Long) ref.getProperty("service.id"), bc.getService(ref), core.adapt(BundleWiring.class));
    }

    private void assertSameIdentity(String event, Identity before, String iothread) {
        Identity after = identity(iothread);
        assertSame(event + ": core was rewired", before.coreWiring(), after.coreWiring());
        assertEquals(event + ": the IOThread restarted", before.contextServiceId(), after.contextServiceId());
        assertSame(event + ": the context changed", before.context(), after.context());
    }

    /** Runs {@code event} under verified load; checks no failure and flat counts. */
    private void underLoad(String event, String iothread, ThrowingRunnable action) throws Exception {
        Identity before = identity(iothread);
        ProcessCounts countsBefore;
        List<String> failures;
        String summary;
        try (VerifiedLoad load = new VerifiedLoad(uri, 16L << 20)) {
            load.awaitProgress(1, 120_000);
            countsBefore = ProcessCounts.settled();
            action.run();
            load.awaitProgress(2, 120_000);
            failures = load.failures();
            summary = load.summary();
        }
        assertTrue(event + ": failed client requests:\n" + String.join("\n", failures), failures.isEmpty());
        assertSameIdentity(event, before, iothread);
        ProcessCounts after = settledNoHigherThan(countsBefore);
        System.out.println("HitlessIT: " + event + ": " + summary + "; " + countsBefore + " -> " + after);
        assertTrue(event + ": fds grew: " + countsBefore + " -> " + after, after.fds() <= countsBefore.fds());
        assertTrue(event + ": threads grew: " + countsBefore + " -> " + after,
                after.jvmThreads() <= countsBefore.jvmThreads());
        String cmp = Tools.run(60, "qemu-img", "compare", "-f", "raw", "-F", "raw", disk.toString(), uri);
        assertTrue(event + ": " + cmp, cmp.contains("Images are identical"));
    }

    /** Counts once the event's leftovers (idle pool workers, closing rings) have gone, within 15 s. */
    private static ProcessCounts settledNoHigherThan(ProcessCounts limit) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        ProcessCounts now = ProcessCounts.settled();
        while ((now.fds() > limit.fds() || now.jvmThreads() > limit.jvmThreads()) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            now = ProcessCounts.settled();
        }
        return now;
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    private void refresh(Bundle... bundles) throws InterruptedException {
        FrameworkWiring fw = bc.getBundle(0).adapt(FrameworkWiring.class);
        CountDownLatch done = new CountDownLatch(1);
        fw.refreshBundles(List.of(bundles), e -> {
            if (e.getType() == FrameworkEvent.PACKAGES_REFRESHED) {
                done.countDown();
            }
        });
        assertTrue("refresh finished", done.await(60, TimeUnit.SECONDS));
    }

    // ---------------------------------------------------------------- tests

    @Test
    public void everyBackendBundleUpdatedStoppedAndReinstalledUnderLoad() throws Exception {
        // The worker pool keeps idle threads 10 s; min = max = 4 keeps their number steady.
        serve("hl", "thread-pool-min", "4", "thread-pool-max", "4");
        for (String bsn : BACKEND_BUNDLES) {
            underLoad(bsn + " update + refresh", "hl", () -> {
                Bundle b = Backends.bundleNamed(bc, bsn);
                b.update();
                refresh(b);
            });
            underLoad(bsn + " stop + start", "hl", () -> {
                Bundle b = Backends.bundleNamed(bc, bsn);
                b.stop();
                Thread.sleep(300);
                b.start();
            });
            underLoad(bsn + " uninstall + reinstall", "hl", () -> {
                Bundle b = Backends.bundleNamed(bc, bsn);
                String location = b.getLocation();
                b.uninstall();
                refresh(b);
                Thread.sleep(300);
                bc.installBundle(location).start();
            });
        }
        String contexts = rig.run("aio:contexts");
        assertTrue(contexts, contexts.contains("hl  thread="));
    }

    @Test
    public void aNamedBackendWhoseBundleStopsFallsBackAndReturns() throws Exception {
        serve("named", "aio-engine", "native", "fdmon", "epoll", "thread-pool-min", "4", "thread-pool-max", "4");
        for (String[] kind : new String[][] {{"aio-engine", "native", "org.aiolos.linuxaio"},
            {"fdmon", "epoll", "org.aiolos.fdmon.epoll"}}) {
            underLoad("named " + kind[0] + " " + kind[1] + ": its bundle stopped and started", "named", () -> {
                Bundle b = Backends.bundleNamed(bc, kind[2]);
                b.stop();
                String during = rig.run("aio:contexts");
                assertTrue(during, during.contains("'" + kind[1] + "' is not available"));
                Thread.sleep(500);
                b.start();
            });
            Await.until("back on " + kind[1], 10_000, () -> rig.run("aio:contexts").contains(kind[0] + "=" + kind[1]));
        }
    }

    @Test
    public void configAdminRestartLeavesEverythingRunning() throws Exception {
        serve("cmr", "thread-pool-min", "4", "thread-pool-max", "4");
        underLoad("Config Admin stop + start", "cmr", () -> {
            Bundle b = Backends.bundleNamed(bc, "org.apache.felix.configadmin");
            b.stop();
            Thread.sleep(300);
            b.start();
        });
    }

    /**
     * SCR is asked to restart, so the IOThread and export restart with it: requests in flight
     * are answered, and the export comes back by itself once SCR has brought every component
     * back, whatever the order its configuration and its backends arrive in.
     */
    @Test
    public void scrRestartAnswersRequestsInFlightAndTheExportComesBack() throws Exception {
        serve("scr");
        int port = Integer.parseInt(uri.replaceAll(".*:(\\d+)/.*", "$1"));
        // The engine opens at the first request: count with it open, as after the restart.
        Tools.run(30, "qemu-io", "-f", "raw", "-c", "read 0 64k", uri);
        ProcessCounts before = ProcessCounts.settled();
        Bundle scr = Backends.bundleNamed(bc, "org.apache.felix.scr");
        try (MiniNbdClient client = new MiniNbdClient(port, "scr")) {
            // Reads that are slow enough to be in flight: 16 of 1 MiB, O_DIRECT, the most one
            // connection may have. "In flight" means received whole, so the test waits
            // until the server has counted them before SCR goes.
            int n = 16;
            int len = 1 << 20;
            for (int i = 0; i < n; i++) {
                client.sendRead(i, (long) i * len, len);
            }
            java.util.regex.Pattern received = java.util.regex.Pattern.compile(
                    "(?m)^scr\\s+serving(\\s+\\S+){4}\\s+\\d+\\s+\\d+\\s+(\\d+)\\s");
            Await.until("the server to receive " + n + " reads", 10_000, () -> {
                java.util.regex.Matcher m = received.matcher(rig.run("nbd:list"));
                return m.find() && Long.parseLong(m.group(2)) >= n;
            });
            // Replies are read by another thread while this one stops SCR: the stop waits
            // for the export's connections to finish, and they finish by being read.
            byte[] file = Files.readAllBytes(disk);
            List<String> problems = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
            Thread reader = Thread.ofPlatform().start(() -> {
                byte[] buf = new byte[len];
                try {
                    long[] r;
                    while ((r = client.reply(buf)) != null) {
                        int off = (int) r[0] * len;
                        if (r[1] != 0) {
                            problems.add("read " + r[0] + ": error " + r[1]);
                        } else if (!java.util.Arrays.equals(java.util.Arrays.copyOfRange(file, off, off + len), buf)) {
                            problems.add("read " + r[0] + ": wrong data");
                        }
                        answered.incrementAndGet();
                    }
                } catch (java.io.IOException e) {
                    problems.add("after " + answered.get() + " replies: " + e);
                }
            });
            try {
                scr.stop();
                reader.join(30_000);
                assertTrue(problems.toString(), problems.isEmpty());
                assertEquals("every read received before SCR stopped is answered", n, answered.get());
            } finally {
                scr.start();
            }
        }
        rig.awaitServing("scr");
        String io = Tools.run(30, "qemu-io", "-f", "raw", "-c", "write -P 9 0 64k", "-c", "read -P 9 0 64k", uri);
        assertTrue(io, !io.contains("Pattern verification failed"));
        ProcessCounts after = settledNoHigherThan(before);
        assertTrue("fds grew: " + before + " -> " + after + " (" + after.grownSince(before) + ")", after.fds() <= before.fds());
    }

    /**
     * The NBD case of a swap inside a completion, for as long as {@code
     * aiolos.hitless.swap.seconds} (60 by default): on the export's IOThread a 4 KiB read is
     * submitted every 3 ms, and each of its completions asks for the other disk engine,
     * while the verified load runs on the same IOThread's engine.
     */
    @Test
    public void engineSwapsRequestedFromCompletionsEveryFewMillisecondsLoseNothing() throws Exception {
        serve("swp", "thread-pool-min", "4", "thread-pool-max", "4");
        AiolosContext ctx = (AiolosContext) Contexts.await(bc, "swp");
        AtomicLong swaps = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        CompletionSwapper swapper = new CompletionSwapper(ctx, disk, swaps, errors);
        underLoad("disk-engine swaps from completions for " + SWAP_SECONDS + " s", "swp", () -> {
            swapper.start();
            Thread.sleep(TimeUnit.SECONDS.toMillis(SWAP_SECONDS));
            swapper.stop();
        });
        System.out.println("HitlessIT: " + swaps.get() + " engine swaps requested from completions");
        assertEquals("swapper reads that failed", 0, errors.get());
        assertTrue("swaps requested: " + swaps.get(), swaps.get() > SWAP_SECONDS * 20);
        String contexts = rig.run("aio:contexts");
        assertTrue(contexts, contexts.contains("swp  thread="));
    }

    /** Reads on the IOThread every 3 ms; each completion asks for the other engine. */
    private static final class CompletionSwapper {
        private static final String[] ENGINES = {"io_uring", "native", "threads"};
        private final AiolosContext ctx;
        private final Path file;
        private final AtomicLong swaps;
        private final AtomicLong errors;
        private volatile boolean running;
        private java.lang.foreign.Arena arena;
        private java.lang.foreign.MemorySegment buf;
        private org.aiolos.api.diskio.DiskFile diskFile;
        private int fd = -1;
        private AioTimer timer;
        private final CountDownLatch stopped = new CountDownLatch(1);

        CompletionSwapper(AiolosContext ctx, Path file, AtomicLong swaps, AtomicLong errors) {
            this.ctx = ctx;
            this.file = file;
            this.swaps = swaps;
            this.errors = errors;
        }

        void start() {
            running = true;
            ctx.scheduleOneshot("swapper-start", () -> {
                fd = org.aiolos.linux.Files.open(file.toString(), org.aiolos.linux.Files.O_RDONLY, 0);
                diskFile = org.aiolos.linux.Files.diskFile(fd);
                arena = java.lang.foreign.Arena.ofShared();
                buf = arena.allocate(4096, 4096);
                timer = ctx.newTimer(ClockType.REALTIME, TimeScale.MS, this::tick);
                tick();
            });
        }

        private void tick() {
            if (!running) {
                org.aiolos.linux.Fds.close(fd);
                arena.close();
                stopped.countDown();
                return;
            }
            ctx.diskIo().readv(diskFile, 0, new java.lang.foreign.MemorySegment[] {buf}, r -> {
                if (r < 0) {
                    errors.incrementAndGet();
                }
                long n = swaps.incrementAndGet();
                ctx.useDiskEngine(ENGINES[(int) (n % ENGINES.length)]);
                timer.mod(ctx.clocks().now(ClockType.REALTIME, TimeScale.MS) + 3);
            });
        }

        void stop() throws InterruptedException {
            running = false;
            assertTrue("the swapper stopped", stopped.await(10, TimeUnit.SECONDS));
            ctx.useDiskEngine(null);
        }
    }
}
