package org.aiolos.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import javax.inject.Inject;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.aiolos.api.AioContext;
import org.aiolos.core.AiolosContext;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/**
 * The container comes up whole, the default IOThread runs, and IOThread configurations
 * created, updated (live; bad ones rejected naming the field) and deleted are reflected.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RuntimeIT {
    @Inject
    BundleContext bc;
    @Inject
    ConfigurationAdmin cm;
    @Inject
    ServiceComponentRuntime scr;

    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        return Setup.container();
    }

    @Test
    public void everyBundleIsActiveAndEveryComponentActive() throws Exception {
        // The build runs this suite on Felix and again on Equinox: make sure it is the one meant.
        String framework = System.getProperty("aiolos.itest.framework");
        if (framework != null) {
            assertEquals("the OSGi framework of this run", framework, bc.getBundle(0).getSymbolicName());
        }
        List<String> notActive = new ArrayList<>();
        for (Bundle b : bc.getBundles()) {
            boolean fragment = b.getHeaders().get(Constants.FRAGMENT_HOST) != null;
            if (!fragment && b.getState() != Bundle.ACTIVE) {
                notActive.add(b.getSymbolicName() + " state " + b.getState());
            }
        }
        assertTrue("bundles not active: " + notActive, notActive.isEmpty());

        List<String> aiolos = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        Await.until(() -> "every Aiolos component active, not yet: " + bad, 10_000, () -> {
            aiolos.clear();
            bad.clear();
            for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
                if (!d.bundle.symbolicName.startsWith("org.aiolos.")) {
                    continue;
                }
                aiolos.add(d.name);
                if (d.name.endsWith(".IOThreadComponent") || d.name.endsWith(".NbdExportComponent")) {
                    continue; // one instance per configuration; none exist here
                }
                var configs = scr.getComponentConfigurationDTOs(d);
                if (configs.isEmpty() || configs.stream().anyMatch(c -> c.state != ComponentConfigurationDTO.ACTIVE)) {
                    bad.add(d.name + " " + configs.stream().map(c -> c.state + " " + c.failure).toList());
                }
            }
            return bad.isEmpty();
        });
        System.out.println("RuntimeIT: " + bc.getBundle(0).getSymbolicName() + " " + bc.getBundle(0).getVersion() + ", "
                + bc.getBundles().length + " bundles active; Aiolos components: " + aiolos);
        assertTrue(aiolos.toString(), aiolos.size() >= 8);
        assertTrue(aiolos.toString(), aiolos.contains("org.aiolos.nbd.osgi.NbdExports"));
    }

    @Test
    public void defaultIOThreadRunsWithoutConfigurationAndHasAnMBean() throws Exception {
        AioContext ctx = Contexts.await(bc, "iothread0");
        assertEquals("default", Contexts.ref(bc, "iothread0").getProperty("aiolos.source"));
        MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
        ObjectName on = new ObjectName("org.aiolos:type=AioContext,name=iothread0");
        Await.until("the MBean's iteration count to move", 5_000,
                () -> attr(jmx, on, "Iterations") instanceof Long n && n > 0);
        Await.until("the MBean to show the context's fd monitor", 5_000,
                () -> ctx.fdMonitorName().equals(attr(jmx, on, "FdMonitor")));
        assertEquals(32768L, attr(jmx, on, "PollMaxNs"));
    }

    @Test
    public void configurationsAreAppliedLiveAndBadOnesRejected() throws Exception {
        Configuration conf = cm.getFactoryConfiguration("org.aiolos.iothread", "it1", "?");
        try {
            createUpdateDelete(conf);
        } finally {
            if (Contexts.ref(bc, "it1") != null) {
                conf.delete(); // leave the container as the other tests expect it
            }
        }
        System.out.println("RuntimeIT: configuration created, updated, rejected x5, deleted: all reflected live");
    }

    private void createUpdateDelete(Configuration conf) throws Exception {
        conf.update(props("name", "it1", "poll-max-ns", "4000", "fdmon", "poll"));
        AiolosContext ctx = (AiolosContext) Contexts.await(bc, "it1");
        Await.until("the default IOThread to give way", 10_000, () -> Contexts.ref(bc, "iothread0") == null);
        assertEquals(4000, ctx.pollParams().maxNs());
        Await.until("it1 on poll", 5_000, () -> ctx.fdMonitorName().equals("poll"));
        assertTrue(isMBean("it1"));

        // A valid update applies to the running loop.
        conf.update(props("name", "it1", "poll-max-ns", "1000", "poll-grow", "4", "aio-max-batch", "16",
                "thread-pool-min", "2", "thread-pool-max", "8", "fdmon", "epoll"));
        Await.until("the update applied", 5_000, () -> ctx.pollParams().maxNs() == 1000 && ctx.threadPoolMax() == 8
                && "1000".equals(String.valueOf(Contexts.ref(bc, "it1").getProperty("poll-max-ns"))));
        assertEquals(4, ctx.pollParams().grow());
        assertEquals(16, ctx.aioMaxBatch());
        assertEquals(2, ctx.threadPoolMin());
        assertEquals(8, ctx.threadPoolMax());
        Await.until("it1 on epoll", 5_000, () -> ctx.fdMonitorName().equals("epoll"));
        assertSame(ctx, "it1");

        // Invalid updates: rejected whole, naming the field; the old settings stay.
        rejectBadUpdate(conf, ctx, props("name", "it1", "thread-pool-min", "9", "thread-pool-max", "3",
                "poll-max-ns", "77"), "thread-pool-min");
        rejectBadUpdate(conf, ctx, props("name", "it1", "fdmon", "kqueue", "poll-max-ns", "77"), "fdmon");
        rejectBadUpdate(conf, ctx, props("name", "it1", "poll-max-ns", "-5"), "poll-max-ns");
        rejectBadUpdate(conf, ctx, props("name", "it1", "aio-max-batch", "lots"), "aio-max-batch");
        rejectBadUpdate(conf, ctx, props("name", "it1", "aio-engine", "posix"), "aio-engine");
        assertEquals("epoll", ctx.fdMonitorName());

        // A good update after rejections clears the note.
        conf.update(props("name", "it1", "poll-max-ns", "2000", "fdmon", "epoll"));
        Await.until("the good update applied", 5_000, () -> ctx.pollParams().maxNs() == 2000);
        Await.until("the rejection note cleared", 5_000,
                () -> Contexts.ref(bc, "it1").getProperty("aiolos.rejected") == null);

        // Deleting the configuration stops the IOThread; the default comes back.
        conf.delete();
        Await.until("it1 gone", 10_000, () -> Contexts.ref(bc, "it1") == null);
        Contexts.await(bc, "iothread0");
        Await.until("it1's MBean unregistered", 5_000, () -> !isMBean("it1"));
    }

    @Test
    public void anInvalidNewConfigurationIsRejectedNamingTheFieldUntilFixed() throws Exception {
        Configuration conf = cm.getFactoryConfiguration("org.aiolos.iothread", "bad1", "?");
        try {
            conf.update(props("name", "bad1", "thread-pool-max", "0"));
            // The component takes the configuration (ACTIVE) but runs no IOThread for it.
            Await.until("the IOThread component for bad1 active", 10_000, () -> {
                for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
                    if (d.name.endsWith(".IOThreadComponent")) {
                        for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                            if (c.state == ComponentConfigurationDTO.ACTIVE
                                    && "bad1".equals(c.properties.get("name"))) {
                                return true;
                            }
                        }
                    }
                }
                return false;
            });
            // ACTIVE means activate has returned, and a valid one registers its context first.
            assertTrue("no IOThread for an invalid configuration", Contexts.ref(bc, "bad1") == null);
            conf.update(props("name", "bad1", "thread-pool-max", "4"));
            AiolosContext ctx = (AiolosContext) Contexts.await(bc, "bad1");
            assertEquals(4, ctx.threadPoolMax());
        } finally {
            conf.delete();
        }
        Await.until("bad1 gone", 10_000, () -> Contexts.ref(bc, "bad1") == null);
        Contexts.await(bc, "iothread0");
    }

    private void rejectBadUpdate(Configuration conf, AiolosContext ctx, Dictionary<String, Object> bad, String field)
            throws Exception {
        conf.update(bad);
        String note = Await.value("a rejection naming " + field, 5_000,
                () -> (String) Contexts.ref(bc, "it1").getProperty("aiolos.rejected"));
        assertTrue(note, note.contains(field));
        assertEquals("old settings kept", 1000, ctx.pollParams().maxNs());
        assertEquals(8, ctx.threadPoolMax());
        assertSame(ctx, "it1");
        // Reset the note with the previous good settings, so the next check sees its own.
        conf.update(props("name", "it1", "poll-max-ns", "1000", "poll-grow", "4", "aio-max-batch", "16",
                "thread-pool-min", "2", "thread-pool-max", "8", "fdmon", "epoll"));
        Await.until("note cleared", 5_000, () -> Contexts.ref(bc, "it1").getProperty("aiolos.rejected") == null
                && ctx.threadPoolMax() == 8);
    }

    /** The same running context: an update never restarts the IOThread. */
    private void assertSame(AiolosContext ctx, String name) {
        org.junit.Assert.assertSame(ctx, Contexts.get(bc, name));
    }

    private static boolean isMBean(String name) {
        try {
            return ManagementFactory.getPlatformMBeanServer()
                    .isRegistered(new ObjectName("org.aiolos:type=AioContext,name=" + name));
        } catch (javax.management.MalformedObjectNameException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static Object attr(MBeanServer jmx, ObjectName on, String name) {
        try {
            return jmx.getAttribute(on, name);
        } catch (Exception e) {
            return null;
        }
    }

    static Dictionary<String, Object> props(String... kv) {
        Hashtable<String, Object> d = new Hashtable<>();
        for (int i = 0; i < kv.length; i += 2) {
            d.put(kv[i], kv[i + 1]);
        }
        return d;
    }
}
