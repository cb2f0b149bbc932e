package org.aiolos.core.coroutine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import org.aiolos.api.AioContext;
import org.aiolos.api.coroutine.Coroutines;
import org.aiolos.core.Aiolos;

/** Helpers shared by the coroutine tests. */
final class CoTests {
    private CoTests() {
    }

    /** Makes coroutines created from now on use {@code backend}; checks the test thread is clean. */
    static void use(String backend) {
        Coroutines.install(CoroutineEngine.provider());
        CoroutineEngine.useBackend(backend);
        assertEquals(backend, CoroutineEngine.currentBackend().name());
        AioContext stale = AioContext.current();
        if (stale != null) {
            AioContext.setCurrent(null);
        }
        assertEquals(null, ThreadState.current().running, "a previous test left a coroutine running");
    }

    /** Polls {@code ctx} (blocking) until {@code done}, failing after {@code timeoutMs}. */
    static void pollUntil(AioContext ctx, BooleanSupplier done, long timeoutMs) {
        long end = System.nanoTime() + timeoutMs * 1_000_000;
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < end, "condition not reached within " + timeoutMs + " ms");
            ctx.poll(false);
            if (!done.getAsBoolean()) {
                Thread.onSpinWait();
            }
        }
    }

    /** Waits (without polling anything) until {@code done}. */
    static void waitUntil(BooleanSupplier done, long timeoutMs) throws InterruptedException {
        long end = System.nanoTime() + timeoutMs * 1_000_000;
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < end, "condition not reached within " + timeoutMs + " ms");
            Thread.sleep(1);
        }
    }

    /**
     * Names of live platform threads, without the JDK's own lingering ones (virtual-thread
     * carriers, the coroutine pool cleaner, which are created once per JVM).
     */
    static Set<String> platformThreads() {
        Set<String> names = new TreeSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            String n = t.getName();
            if (!t.isVirtual() && t.isAlive() && !n.startsWith("ForkJoinPool") && !n.equals("aiolos-coroutine-pool-cleaner")
                    && !n.equals("VirtualThread-unblocker")
                    && !n.startsWith("Common-Cleaner") && !n.startsWith("process reaper")) {
                names.add(n);
            }
        }
        return names;
    }

    static AioContext newContext(String name) {
        return Aiolos.newContext(name);
    }
}
