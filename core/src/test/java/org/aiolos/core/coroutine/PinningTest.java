package org.aiolos.core.coroutine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.CoroutinePinnedException;
import org.aiolos.testkit.Upcall;
import org.aiolos.api.coroutine.Coroutines;

/**
 * Yields the JVM may refuse. Measured on JDK 25: a continuation yields through held
 * monitors (JEP 491's freezing of monitors applies to any continuation), so a yield
 * inside {@code synchronized} works on both backends and the monitor stays with the
 * coroutine; a native frame (an up-call, a class initializer) pins the continuation, and
 * the yield fails with {@link CoroutinePinnedException}. The virtual-thread backend just
 * parks its thread, pinned or not.
 */
class PinningTest {

    @BothBackends
    void yieldInsideSynchronizedKeepsTheMonitor(String backend) throws Exception {
        CoTests.use(backend);
        Object monitor = new Object();
        boolean[] heldAfterResume = new boolean[1];
        Coroutine co = Coroutines.create("monitor-holder", () -> {
            synchronized (monitor) {
                Coroutines.yieldNow();
                heldAfterResume[0] = Thread.holdsLock(monitor);
            }
        });
        co.enter();
        assertFalse(co.isFinished(), "it yielded inside synchronized");
        AtomicBoolean otherGotIt = new AtomicBoolean();
        Thread other = new Thread(() -> {
            synchronized (monitor) {
                otherGotIt.set(true);
            }
        });
        other.start();
        other.join(100);
        assertFalse(otherGotIt.get(), "the yielded coroutine still owns the monitor");
        // Resume it from another thread: the monitor travels with the coroutine.
        Thread resumer = new Thread(co::enter);
        resumer.start();
        resumer.join(10_000);
        assertTrue(co.isFinished());
        assertTrue(heldAfterResume[0]);
        other.join(10_000);
        assertTrue(otherGotIt.get());
    }

    @BothBackends
    void yieldBelowANativeFrame(String backend) {
        CoTests.use(backend);
        Object[] outcome = new Object[1];
        Coroutine co = Coroutines.create("upcaller", () -> {
            outcome[0] = Upcall.callThroughNative(() -> {
                try {
                    Coroutines.yieldNow();
                    return "yielded";
                } catch (CoroutinePinnedException e) {
                    return e;
                }
            });
            Coroutines.yieldNow(); // still a working coroutine afterwards
        });
        co.enter();
        if (outcome[0] == null) {
            co.enter(); // the virtual-thread backend yielded from inside the up-call
        }
        if (backend.equals(Backend.CONTINUATION)) {
            CoroutinePinnedException e = assertInstanceOf(CoroutinePinnedException.class, outcome[0]);
            assertTrue(e.getMessage().contains("'upcaller'") && e.getMessage().contains("native frame"),
                    e.getMessage());
        } else {
            assertEquals("yielded", outcome[0]);
        }
        assertFalse(co.isFinished());
        assertFalse(co.isEntered(), "the yield after the failed one worked");
        co.enter();
        assertTrue(co.isFinished());
    }

    /** One class per backend: a class initializes once per JVM. */
    static final class InitContinuation {
        static final Object OUTCOME = tryYield();

        static void touch() {
        }
    }

    static final class InitVirtualThread {
        static final Object OUTCOME = tryYield();

        static void touch() {
        }
    }

    private static Object tryYield() {
        try {
            Coroutines.yieldNow();
            return "yielded";
        } catch (CoroutinePinnedException e) {
            return e;
        }
    }

    @BothBackends
    void yieldInAClassInitializer(String backend) {
        CoTests.use(backend);
        boolean cont = backend.equals(Backend.CONTINUATION);
        Coroutine co = Coroutines.create("initializer", () -> {
            if (cont) {
                InitContinuation.touch();
            } else {
                InitVirtualThread.touch();
            }
        });
        co.enter();
        if (!co.isFinished()) {
            co.enter();
        }
        assertTrue(co.isFinished());
        Object outcome = cont ? InitContinuation.OUTCOME : InitVirtualThread.OUTCOME;
        if (cont) {
            CoroutinePinnedException e = assertInstanceOf(CoroutinePinnedException.class, outcome);
            assertTrue(e.reason().contains("native frame"), e.reason());
        } else {
            assertEquals("yielded", outcome);
        }
    }
}
