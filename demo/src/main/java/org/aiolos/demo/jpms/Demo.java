package org.aiolos.demo.jpms;

import java.util.concurrent.atomic.AtomicInteger;
import org.aiolos.api.ClockType;
import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.BackendProviders;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.linux.EventFd;

/**
 * Aiolos without OSGi: run on the module path, it lists the fd monitors
 * {@link java.util.ServiceLoader} found, creates a context, drives it from this thread
 * until an eventfd handler, a bottom half and a sleeping coroutine have run, prints what
 * ran where and exits 0.
 *
 * <pre>java --enable-native-access=org.aiolos.linux --add-exports java.base/jdk.internal.vm=org.aiolos.core \
 *     --module-path &lt;jars&gt; -m org.aiolos.demo/org.aiolos.demo.jpms.Demo</pre>
 */
public final class Demo {
    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        for (Module m : new Module[] {Demo.class.getModule(), Aiolos.class.getModule()}) {
            System.out.println("module " + m.getName() + " (named: " + m.isNamed() + ")");
        }
        for (BackendProviders.Provider<FdMonitorFactory> p : FdMonitorProviders.system().list()) {
            String why = p.factory().unavailableReason();
            System.out.println("fd monitor found by ServiceLoader: " + p.name() + " from module "
                    + p.factory().getClass().getModule().getName() + (why == null ? "" : " (unavailable: " + why + ")"));
        }
        AtomicInteger events = new AtomicInteger();
        try (AiolosContext ctx = Aiolos.newContext("jpms-demo"); EventFd kick = EventFd.open(false)) {
            ctx.setEventNotifier(kick, () -> {
                kick.testAndClear();
                events.incrementAndGet();
            }, null, null);
            var bh = ctx.newBottomHalf("hello", events::incrementAndGet);
            bh.schedule();
            kick.set();
            // A coroutine that sleeps on the context's timer in between: two more callbacks.
            Coroutine co = Coroutines.create("demo-co", () -> {
                events.incrementAndGet();
                Coroutines.sleepNs(ClockType.REALTIME, 1_000_000);
                events.incrementAndGet();
            });
            ctx.coSchedule(co);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (events.get() < 4 && System.nanoTime() < deadline) {
                ctx.poll(true);
            }
            bh.delete();
            ctx.setEventNotifier(kick, null, null, null);
            ctx.poll(false); // retire the removed handler before the eventfd closes
            System.out.println("context " + ctx.name() + " on fd monitor " + ctx.fdMonitorName() + ": "
                    + events.get() + " callbacks ran (eventfd handler, bottom half, coroutine before and after"
                    + " its sleep), " + ctx.stats().iterations() + " iterations; coroutine backend "
                    + Coroutines.backend());
            if (events.get() != 4) {
                System.out.println("FAILED: expected 4 callbacks");
                System.exit(1);
            }
        }
        System.out.println("JPMS mode OK");
    }
}
