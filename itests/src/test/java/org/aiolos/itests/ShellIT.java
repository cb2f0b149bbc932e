package org.aiolos.itests;

import static org.junit.Assert.assertTrue;

import java.util.regex.Pattern;
import javax.inject.Inject;
import org.aiolos.core.AiolosContext;
import org.apache.felix.service.command.CommandProcessor;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;

/** The {@code aio} Gogo commands, run through Gogo's command processor as a user would. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ShellIT {
    @Inject
    BundleContext bc;
    @Inject
    CommandProcessor gogo;

    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        return Setup.container();
    }

    private String run(String command) throws Exception {
        return Gogo.run(gogo, command);
    }

    @Test
    public void contextsListsThreadMonitorEngineAndLiveCounters() throws Exception {
        AiolosContext ctx = (AiolosContext) Contexts.await(bc, "iothread0");
        Await.until("the echo demo's traffic", 5_000, () -> ctx.stats().fdsDispatched() > 5);
        String out = run("aio:contexts");
        System.out.println("ShellIT aio:contexts\n" + out);
        for (String expected : new String[] {"iothread0", "thread=iothread0", "source=default", "fdmon=",
                "engine=", "pool=", "iterations=", "bhs-run=", "fds-dispatched=", "poll-hits=", "poll-misses=",
                "poll-ns=", "timers-pending=", "coroutines=", "pool-threads=", "pool-in-flight=", "disk-in-flight="}) {
            assertTrue("missing '" + expected + "' in:\n" + out, out.contains(expected));
        }
        assertTrue(out, Pattern.compile("fds-dispatched=[1-9]").matcher(out).find());
        // The launcher's --add-exports reaches bundles: coroutines run on continuations.
        assertTrue(out, out.contains("(backend continuation)"));
    }

    @Test
    public void backendsListsRankingAndAvailability() throws Exception {
        String out = run("aio:backends");
        System.out.println("ShellIT aio:backends\n" + out);
        for (String name : new String[] {"poll", "epoll", "io_uring"}) {
            assertTrue(out, Pattern.compile("fdmon\\s+" + name + "\\s+0\\s+(available|unavailable: .+)")
                    .matcher(out).find());
        }
        assertTrue(out, out.contains("thread-pool") && out.contains("aio-engine"));
    }

    @Test
    public void useSwitchesTheMonitorLive() throws Exception {
        AiolosContext ctx = (AiolosContext) Contexts.await(bc, "iothread0");
        String out = run("aio:use iothread0 epoll");
        assertTrue(out, out.contains("iothread0: fd monitor epoll"));
        assertTrue(ctx.fdMonitorName().equals("epoll"));
        out = run("aio:use iothread0 poll");
        assertTrue(out, out.contains("fd monitor poll"));
        out = run("aio:use iothread0 auto");
        assertTrue(out, out.contains("iothread0: fd monitor"));
        assertTrue(run("aio:use nosuch poll").contains("no context named 'nosuch'"));
        assertTrue(run("aio:use iothread0 kqueue").contains("unknown fd monitor 'kqueue'"));
        assertTrue(run("aio:use iothread0 fdmon epoll").contains("iothread0: fd monitor epoll"));
        out = run("aio:use iothread0 aio-engine native");
        assertTrue(out, out.contains("iothread0: disk-I/O engine native from the next request"));
        assertTrue(run("aio:use iothread0 aio-engine posix").contains("unknown disk-I/O engine 'posix'"));
        assertTrue(run("aio:use iothread0 aio-engine auto").contains("disk-I/O engine best available"));
    }

    @Test
    public void configureCreatesUpdatesRejectsAndDeletesIOThreads() throws Exception {
        try {
            configureCreatesUpdatesRejectsAndDeletes();
        } finally {
            // A failure must not leave sh1 or sh2 behind: while either is configured the
            // default IOThread does not run, and the other tests look for it.
            run("aio:unconfigure sh1");
            run("aio:unconfigure sh2");
            Contexts.await(bc, "iothread0");
        }
    }

    private void configureCreatesUpdatesRejectsAndDeletes() throws Exception {
        String out = run("aio:configure sh1 fdmon=epoll poll-max-ns=4000");
        assertTrue(out, out.contains("sh1: created"));
        AiolosContext ctx = (AiolosContext) Contexts.await(bc, "sh1");
        assertTrue(ctx.pollParams().maxNs() == 4000);

        out = run("aio:configure sh1 thread-pool-min=9 thread-pool-max=3");
        assertTrue(out, out.contains("sh1: update rejected: thread-pool-min/thread-pool-max"));
        assertTrue(ctx.pollParams().maxNs() == 4000);
        out = run("aio:contexts");
        assertTrue(out, out.contains("last update rejected: thread-pool-min/thread-pool-max"));

        out = run("aio:configure sh1 thread-pool-min=1 thread-pool-max=3 poll-max-ns=500");
        assertTrue(out, out.contains("sh1: applied"));
        assertTrue(ctx.pollParams().maxNs() == 500 && ctx.threadPoolMax() == 3);
        assertTrue(run("aio:configure sh1").contains("poll-max-ns=500"));

        out = run("aio:configure sh2 thread-pool-max=0");
        assertTrue(out, out.contains("sh2: configuration rejected: thread-pool-min/thread-pool-max"));
        assertTrue(run("aio:contexts").contains("sh2  no IOThread: its configuration was rejected: thread-pool-min"));
        out = run("aio:configure sh2 thread-pool-max=2");
        assertTrue(out, out.contains("sh2: applied"));
        assertTrue(((AiolosContext) Contexts.await(bc, "sh2")).threadPoolMax() == 2);
        assertTrue(run("aio:unconfigure sh2").contains("sh2: configuration deleted"));

        out = run("aio:unconfigure sh1");
        assertTrue(out, out.contains("sh1: configuration deleted"));
        Await.until("sh1 gone", 5_000, () -> Contexts.ref(bc, "sh1") == null);
        System.out.println("ShellIT: aio:configure created, rejected, applied; aio:unconfigure deleted");
    }

    @Test
    public void topRefreshesWithRates() throws Exception {
        Contexts.await(bc, "iothread0");
        String out = run("aio:top 2 200");
        System.out.println("ShellIT aio:top 2 200\n" + out);
        assertTrue(out, out.contains("aio top  (1/2") && out.contains("aio top  (2/2"));
        assertTrue(out, out.contains("POOL") && out.contains("P-INFL") && out.contains("D-INFL"));
        assertTrue(out, Pattern.compile("iothread0\\s+\\S+\\s+\\d+").matcher(out).find());
    }

    @Test
    public void benchReportsItsThreeNumbers() throws Exception {
        String out = run("aio:bench");
        System.out.println("ShellIT aio:bench\n" + out);
        assertTrue(out, Pattern.compile("bottom halves run in the loop: [\\d,]+ /s").matcher(out).find());
        assertTrue(out, Pattern.compile("cross-thread wake round trip: +[\\d.]+ us").matcher(out).find());
        assertTrue(out, Pattern.compile("eventfd dispatch round trip: +[\\d.]+ us").matcher(out).find());
        assertTrue("the bench's IOThread has ended",
                Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("aio-bench")));
    }
}
