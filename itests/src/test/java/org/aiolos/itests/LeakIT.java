package org.aiolos.itests;

import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.inject.Inject;
import org.aiolos.core.AiolosContext;
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
 * Stopping and starting each backend bundle 100 times, with a context using it each time
 * (so every cycle opens and closes a monitor, a pool or a disk engine), leaves the
 * process's fd and thread counts where they were.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class LeakIT {
    private static final int CYCLES = 100;
    private static final int WARMUP = 3;

    @Inject
    BundleContext bc;
    @Inject
    ConfigurationAdmin cm;

    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        return Setup.container();
    }

    @Test
    public void hundredStopStartCyclesOfEachMonitorBundleLeaveCountsFlat() throws Exception {
        Map<String, AiolosContext> onMonitor = new LinkedHashMap<>();
        List<Configuration> confs = new ArrayList<>();
        for (String mon : Backends.MONITORS) {
            String name = "leak-" + mon.replace("_", "");
            Configuration c = cm.getFactoryConfiguration("org.aiolos.iothread", name, "?");
            // The epoll context also does the pool and disk work, on the native (linux-aio)
            // engine, so stopping linux-aio closes its engine each cycle.
            c.update(mon.equals("epoll") ? RuntimeIT.props("name", name, "fdmon", mon, "aio-engine", "native")
                    : RuntimeIT.props("name", name, "fdmon", mon));
            confs.add(c);
            AiolosContext ctx = (AiolosContext) Contexts.await(bc, name);
            Await.until(name + " on " + mon, 5_000, () -> ctx.fdMonitorName().equals(mon));
            onMonitor.put(mon, ctx);
        }
        AiolosContext worker = onMonitor.get("epoll");
        try (OneRequestEach io = new OneRequestEach(worker)) {
            cycle(onMonitor, WARMUP, io); // class loading, lazily created JVM threads
            ProcessCounts before = ProcessCounts.settled();
            long t0 = System.nanoTime();
            cycle(onMonitor, CYCLES, io);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            ProcessCounts after = ProcessCounts.settled();
            System.out.println("LeakIT: " + CYCLES + " x stop/start of each fd-monitor bundle (" + 3 * CYCLES * 2
                    + " monitor swaps), of the threadpool and linux-aio bundles (a pool and an engine opened and"
                    + " closed each time) in " + ms + " ms; before: " + before + "; after: " + after);
            // Flat means no growth: a count may drop (a lazily closed fd of the warm-up).
            assertTrue("open fds grew: " + before + " -> " + after + " (" + after.grownSince(before) + ")", after.fds() <= before.fds());
            assertTrue("JVM threads grew: " + before + " -> " + after, after.jvmThreads() <= before.jvmThreads());
            assertTrue("kernel tasks grew: " + before + " -> " + after, after.tasks() <= before.tasks());
            for (AiolosContext ctx : onMonitor.values()) {
                assertTrue(ctx.name() + " swapped each cycle", ctx.stats().monitorSwaps() >= 2L * (CYCLES + WARMUP));
            }
            assertTrue("the disk engine was linux-aio's", "native".equals(worker.diskEngineName()));
        } finally {
            for (Configuration c : confs) {
                c.delete();
            }
        }
    }

    private void cycle(Map<String, AiolosContext> onMonitor, int cycles, OneRequestEach io) throws Exception {
        for (int i = 0; i < cycles; i++) {
            for (String bsn : new String[] {"org.aiolos.threadpool", "org.aiolos.linuxaio"}) {
                Bundle b = Backends.bundleNamed(bc, bsn);
                b.stop();
                b.start();
                io.run(); // opens a pool and a disk engine again, so the next stop closes them
            }
            for (Map.Entry<String, AiolosContext> e : onMonitor.entrySet()) {
                Bundle b = Backends.bundle(bc, e.getKey());
                AiolosContext ctx = e.getValue();
                long swaps = ctx.stats().monitorSwaps();
                b.stop();
                Await.until(ctx.name() + " off its stopped bundle", 5_000, () -> ctx.stats().monitorSwaps() > swaps);
                b.start();
                Await.until(ctx.name() + " back on " + e.getKey(), 5_000,
                        () -> ctx.stats().monitorSwaps() >= swaps + 2 && ctx.fdMonitorName().equals(e.getKey()));
            }
        }
    }
}
