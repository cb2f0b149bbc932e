package org.aiolos.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
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
import org.osgi.service.cm.ConfigurationAdmin;

/** The {@code aio} Gogo commands, run through Gogo's command processor as a user would. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ShellIT {
    @Inject
    BundleContext bc;
    @Inject
    CommandProcessor gogo;
    @Inject
    ConfigurationAdmin cm;

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
        assertTrue(out, out.startsWith("iothread0: aio-engine ") && out.contains("(configured: native)"));
        assertTrue(run("aio:use iothread0 aio-engine posix").contains("unknown disk-I/O engine 'posix'"));
        out = run("aio:use iothread0 aio-engine auto");
        assertTrue(out, out.contains("(configured: best available)"));
        out = run("aio:use iothread0 thread-pool auto");
        assertTrue(out, out.startsWith("iothread0: thread-pool ") && out.contains("(configured: best available)"));
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

        // Three bad fields: three errors at once, nothing stored, nothing applied.
        out = run("aio:configure sh1 poll-max-ns=+5 frobnicate=3 thread-pool-min=10 thread-pool-max=2");
        assertTrue(out, out.startsWith("sh1: update rejected, nothing stored: 3 errors: frobnicate: unknown key; the"
                + " known keys are aio-engine, aio-max-batch, backend-wait-ms, fdmon, name, poll-grow, poll-max-ns,"
                + " poll-shrink,"
                + " thread-pool-max, thread-pool-min; poll-max-ns: write the integer plainly (5), got '+5';"
                + " thread-pool-min/thread-pool-max: "));
        assertTrue(ctx.pollParams().maxNs() == 4000);
        String shown = run("aio:configure sh1");
        assertFalse(shown, shown.contains("frobnicate") || shown.contains("+5"));
        assertFalse(run("aio:contexts").contains("last update rejected"));
        // Booleans-like and signed numbers are refused; a rename is refused, not "applied".
        assertTrue(run("aio:configure sh1 poll-grow=-0").contains("poll-grow: write the integer plainly (0)"));
        assertTrue(run("aio:configure sh1 name=renamed").contains("name: the IOThread's name is fixed ('sh1')"));

        // A later, unrelated change is not poisoned by the refused ones.
        out = run("aio:configure sh1 thread-pool-min=1 thread-pool-max=3 poll-max-ns=500");
        assertTrue(out, out.contains("sh1: applied"));
        assertTrue(ctx.pollParams().maxNs() == 500 && ctx.threadPoolMax() == 3);
        assertTrue(Pattern.compile("poll-max-ns\\s+500\\n").matcher(run("aio:configure sh1")).find());
        // key= takes a field back to its default (the Metatype's).
        assertTrue(run("aio:configure sh1 poll-max-ns= fdmon=").contains("sh1: applied"));
        assertTrue(ctx.pollParams().maxNs() == 32768);
        assertTrue(run("aio:configure sh1").contains("poll-max-ns      (default: 32768)"));

        out = run("aio:configure sh2 thread-pool-max=0");
        assertTrue(out, out.contains("sh2: configuration rejected, nothing stored: thread-pool-max: must be >= 1,"
                + " got 0"));
        assertTrue(run("aio:configure sh2").contains("sh2: no configuration"));
        out = run("aio:configure sh2 thread-pool-max=2");
        assertTrue(out, out.contains("sh2: created"));
        assertTrue(((AiolosContext) Contexts.await(bc, "sh2")).threadPoolMax() == 2);
        assertTrue(run("aio:unconfigure sh2").contains("sh2: configuration deleted"));

        out = run("aio:unconfigure sh1");
        assertTrue(out, out.contains("sh1: configuration deleted"));
        Await.until("sh1 gone", 5_000, () -> Contexts.ref(bc, "sh1") == null);
        System.out.println("ShellIT: aio:configure created, refused three errors at once, applied, reset to"
                + " defaults; aio:unconfigure deleted");
    }

    /**
     * A configuration stored under one name (FileInstall's {@code org.aiolos.iothread-alias3.cfg})
     * that configures another ({@code name=sh3}): asking for the first name must not rename
     * the IOThread behind it.
     */
    @Test
    public void configureByAConfigurationsOtherNameRefusesToRenameIt() throws Exception {
        org.osgi.service.cm.Configuration c = cm.getFactoryConfiguration("org.aiolos.iothread", "alias3", "?");
        java.util.Hashtable<String, Object> props = new java.util.Hashtable<>();
        props.put("name", "sh3");
        props.put("poll-max-ns", "5000");
        c.update(props);
        try {
            AiolosContext ctx = (AiolosContext) Contexts.await(bc, "sh3");
            String out = run("aio:configure alias3 poll-max-ns=7000");
            assertTrue(out, out.startsWith("alias3: configuration rejected, nothing stored: name: configuration "
                    + c.getPid() + " configures IOThread 'sh3' (name=sh3), and 'alias3' would rename it; change that"
                    + " one with aio:configure sh3"));
            assertEquals("sh3", c.getProperties().get("name"));
            assertEquals(5000, ctx.pollParams().maxNs());
            out = run("aio:configure alias3");
            assertTrue(out, out.startsWith("alias3: no IOThread of that name is configured; configuration "));
            out = run("aio:unconfigure alias3");
            assertTrue(out, out.startsWith("alias3: no IOThread of that name to delete; ")
                    && out.endsWith("aio:unconfigure sh3 deletes it"));
            assertEquals(5000, ctx.pollParams().maxNs());
            assertTrue(run("aio:configure sh3 poll-max-ns=7000").contains("sh3: applied"));
            assertEquals(7000, ctx.pollParams().maxNs());
        } finally {
            c.delete();
            Contexts.await(bc, "iothread0");
        }
    }

    @Test
    public void helpExplainsEveryCommandAndAWrongCallPrintsTheUsage() throws Exception {
        String help = run("help aio:configure");
        System.out.println("ShellIT help aio:configure\n" + help);
        assertTrue(help, help.contains("creates or updates an IOThread's configuration"));
        assertTrue(help, help.contains("key=value sets a field, key= takes it back to its default"));
        for (String c : new String[] {"aio:contexts", "aio:backends", "aio:use", "aio:top", "aio:bench",
                "aio:unconfigure", "nbd:list", "nbd:export", "nbd:close"}) {
            String h = run("help " + c);
            assertTrue("no description: " + c + ":\n" + h, h.contains(" - "));
        }
        assertTrue(run("help nbd:export").contains("the image file (an existing regular file)"));
        // Wrong calls print the usage, not Gogo's "Cannot coerce list(Token) to any of [()]" or
        // a raw IllegalArgumentException.
        String[][] wrongCalls = {
            {"aio:use", "aio:use: wrong arguments\nusage: aio:use <context>"},
            {"aio:top x y", "aio:top: wrong arguments\nusage: aio:top"},
            {"nbd:close a b", "nbd:close: wrong arguments\nusage: nbd:close <name>"},
            {"nbd:list extra", "nbd:list: wrong arguments\nusage: nbd:list"},
            {"aio:contexts x", "aio:contexts: wrong arguments\nusage: aio:contexts"},
            {"aio:backends x", "aio:backends: wrong arguments\nusage: aio:backends"},
            {"aio:top 0 0", "aio:top: count and intervalMs must be > 0, got 0 and 0\nusage: aio:top"},
            {"aio:use iothread0 aio-engine", "aio:use: aio-engine needs a value\nusage: aio:use"},
        };
        for (String[] w : wrongCalls) {
            String out = Gogo.refusal(gogo, w[0]);
            assertTrue(w[0] + ": " + out, out.startsWith(w[1]));
        }
        // ... and the right calls still reach their no-argument form, not the usage.
        assertFalse(run("nbd:list").contains("wrong arguments"));
        assertTrue(run("aio:contexts").contains("iothread0"));
        assertTrue(run("aio:backends").startsWith("KIND"));
        String usage = run("aio:configure");
        assertTrue(usage, usage.startsWith("usage: aio:configure <name>") && usage.contains("poll-max-ns")
                && usage.contains("Longest adaptive busy poll in ns"));
    }

    /**
     * A command that cannot do what it was asked fails (the shell shows it in red, a script
     * stops at it); these used to return their reason as if they had worked.
     */
    @Test
    public void refusalsFailTheCommandWithTheirReasonAlone() throws Exception {
        Contexts.await(bc, "iothread0");
        String[][] refusals = {
            {"aio:use nosuch epoll", "no context named 'nosuch'; contexts: "},
            {"aio:use iothread0 epol", "unknown fd monitor 'epol'; use poll, epoll, io_uring or auto"},
            {"aio:use iothread0 aio-engine foo", "unknown disk-I/O engine 'foo'"},
            {"aio:use iothread0 gpu x", "unknown backend kind 'gpu'"},
            {"aio:unconfigure nosuch", "nosuch: no configuration to delete"},
            {"aio:configure nosuch", "nosuch: no configuration; create one with aio:configure nosuch"},
            {"nbd:export nosuch", "nosuch: no configuration; create one with nbd:export nosuch"},
            {"nbd:close nosuch", "nosuch: no configuration to delete"},
            {"aio:configure .. fdmon=epoll", "name: must be ASCII letters, digits, '_', '.' or '-', not starting with"},
            {"nbd:export .. /nonexistent iothread=iothread0", "name: must be ASCII letters, digits, '_', '.' or '-',"
                    + " not starting with"},
            {"aio:bench epol", "unknown fd monitor 'epol'; use poll, epoll, io_uring or auto"},
            {"aio:use iothread0 thread-pool bogus", "unknown thread-pool provider 'bogus'; use a registered"
                    + " provider's name ("},
        };
        for (String[] r : refusals) {
            String message = Gogo.refusal(gogo, r[0]);
            assertTrue(r[0] + ": " + message, message.startsWith(r[1]) && !message.contains("Exception"));
        }
    }

    /** The unit tests read copies of the Metatype bnd writes into the jars: they must match. */
    @Test
    public void theUnitTestsMetatypeCopiesMatchTheBundles() throws Exception {
        java.nio.file.Path root = java.nio.file.Path.of(System.getProperty("aiolos.root"));
        String[][] copies = {
            {"org.aiolos.core", "OSGI-INF/metatype/org.aiolos.core.osgi.IOThreadConfig.xml",
                "core/src/test/resources/org/aiolos/core/osgi/IOThreadConfig-metatype.xml"},
            {"org.aiolos.nbd", "OSGI-INF/metatype/org.aiolos.nbd.osgi.ExportConfig.xml",
                "nbd/src/test/resources/org/aiolos/nbd/osgi/ExportConfig-metatype.xml"},
        };
        for (String[] c : copies) {
            org.osgi.framework.Bundle b = java.util.Arrays.stream(bc.getBundles())
                    .filter(x -> c[0].equals(x.getSymbolicName())).findFirst().orElseThrow();
            try (java.io.InputStream in = b.getEntry(c[1]).openStream()) {
                assertEquals(c[2] + " is a stale copy of " + c[0] + "'s " + c[1] + " (copy the jar's over it)",
                        java.nio.file.Files.readString(root.resolve(c[2])),
                        new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    public void topRefreshesWithRates() throws Exception {
        Contexts.await(bc, "iothread0");
        String out = run("aio:top 2 200");
        System.out.println("ShellIT aio:top 2 200\n" + out);
        assertFalse("no ANSI clear without a terminal", out.contains("\033["));
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
