package org.aiolos.itests;

import static org.junit.Assert.assertEquals;
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
 * Each fd-monitor bundle stopped and started while contexts on it carry fd traffic: the
 * contexts move away and back at safe points, and every byte written is read exactly
 * once; and each thread-pool and disk-engine bundle stopped and started while pool work
 * and disk I/O run: every accepted request completes exactly once, successfully.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HotSwapIT {
    private static final int CYCLES = 10;

    @Inject
    BundleContext bc;
    @Inject
    ConfigurationAdmin cm;

    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        return Setup.container();
    }

    @Test
    public void stoppingAndStartingEachMonitorBundleUnderLoadLosesNothing() throws Exception {
        // One IOThread per monitor, configured to use it, plus one on QEMU's policy.
        Map<String, AiolosContext> contexts = new LinkedHashMap<>();
        List<Configuration> confs = new ArrayList<>();
        for (String mon : new String[] {"poll", "epoll", "io_uring", ""}) {
            String name = "hs-" + (mon.isEmpty() ? "auto" : mon.replace("_", ""));
            Configuration c = cm.getFactoryConfiguration("org.aiolos.iothread", name, "?");
            c.update(RuntimeIT.props("name", name, "fdmon", mon));
            confs.add(c);
            AiolosContext ctx = (AiolosContext) Contexts.await(bc, name);
            if (!mon.isEmpty()) {
                Await.until(name + " on " + mon, 5_000, () -> ctx.fdMonitorName().equals(mon));
            }
            contexts.put(name, ctx);
        }
        List<PipeLoad> loads = new ArrayList<>();
        List<PoolDiskLoad> work = new ArrayList<>();
        for (AiolosContext ctx : contexts.values()) {
            loads.add(new PipeLoad(ctx));
            work.add(new PoolDiskLoad(ctx));
        }
        long t0 = System.nanoTime();
        try {
            for (int cycle = 0; cycle < CYCLES; cycle++) {
                for (String mon : Backends.MONITORS) {
                    Bundle b = Backends.bundle(bc, mon);
                    AiolosContext onIt = contexts.get("hs-" + mon.replace("_", ""));
                    long swaps = onIt.stats().monitorSwaps();
                    b.stop();
                    Await.until(onIt.name() + " off the stopped " + mon + " bundle", 5_000,
                            () -> onIt.stats().monitorSwaps() >= swaps + 1);
                    b.start();
                    Await.until(onIt.name() + " back on " + mon, 5_000,
                            () -> onIt.stats().monitorSwaps() >= swaps + 2 && onIt.fdMonitorName().equals(mon));
                }
                for (String bsn : new String[] {"org.aiolos.threadpool", "org.aiolos.linuxaio"}) {
                    Bundle b = Backends.bundleNamed(bc, bsn);
                    b.stop();
                    Thread.sleep(5); // under load: submissions refused or moved, in-flight ones finishing
                    b.start();
                    Thread.sleep(5);
                }
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            StringBuilder report = new StringBuilder();
            int i = 0;
            for (AiolosContext ctx : contexts.values()) {
                PoolDiskLoad w = work.get(i);
                w.finish(10_000);
                assertEquals(ctx.name() + ": pool work failed", 0, w.poolFailed.get());
                assertEquals(ctx.name() + ": disk requests failed or short", 0, w.diskFailed.get());
                assertTrue(ctx.name() + ": pool work ran", w.poolCompleted.get() > 100);
                assertTrue(ctx.name() + ": disk I/O ran", w.diskCompleted.get() > 100);
                report.append(String.format("%n  %-12s %s", ctx.name(), w.report()));
                long[] r = loads.get(i++).finish(10_000);
                assertEquals(ctx.name() + ": bytes read == written", r[0], r[1]);
                // Only hs-poll never runs on io_uring: hs-epoll does while the epoll bundle is
                // stopped (a named monitor that is missing is replaced by the best available).
                if (ctx.name().equals("hs-poll")) {
                    assertEquals(ctx.name() + ": dispatches that found nothing (duplicate or stale events)", 0, r[2]);
                }
                // On io_uring a rare dispatch finds the pipe already drained: measured without
                // OSGi and without any swap too (4 loaded IOThreads on 2 cores, about 1 per
                // 3 MB), so it is the io_uring monitor's, not the swap's; it is reported here,
                // and no byte is ever lost (asserted above).
                report.append(String.format("%n  %-12s on %-8s %,d bytes written = read, %d swaps, %d empty dispatches",
                        ctx.name(), ctx.fdMonitorName(), r[0], ctx.stats().monitorSwaps(), r[2]));
                assertTrue(ctx.name() + " made progress", r[0] > 10_000);
            }
            System.out.println("HotSwapIT: " + CYCLES + " x stop/start of the poll, epoll, io_uring (fd monitor and"
                    + " disk engine), threadpool and linux-aio bundles under fd, pool and disk load in " + ms + " ms:"
                    + report);
            for (String mon : Backends.MONITORS) {
                AiolosContext ctx = contexts.get("hs-" + mon.replace("_", ""));
                assertTrue(ctx.name() + " swapped away and back each cycle", ctx.stats().monitorSwaps() >= 2 * CYCLES);
            }
        } finally {
            for (PipeLoad l : loads) {
                l.close();
            }
            for (PoolDiskLoad w : work) {
                w.close();
            }
            for (Configuration c : confs) {
                c.delete();
            }
        }
    }
}
