package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.aiolos.api.IOThread;
import org.aiolos.linux.EventFd;
import org.aiolos.linux.Fds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The contract of removing (or replacing) a handler from a thread other than the home
 * thread: when {@code removeFdHandler} returns, the old callbacks are not running and will
 * not start. Stressed with always-readable eventfds whose callbacks count how often they
 * start after, or are still running at, their removal's return.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ForeignRemovalTest {

    /** One handler's life: its callback counts starts after retirement and running callbacks. */
    private static final class Probe {
        final AtomicBoolean retired = new AtomicBoolean();
        final AtomicInteger running = new AtomicInteger();
        final AtomicLong calls = new AtomicLong();

        void callback(AtomicLong lateStarts) {
            running.incrementAndGet();
            if (retired.get()) {
                lateStarts.incrementAndGet();
            }
            calls.incrementAndGet();
            Thread.onSpinWait(); // widen the window a remover could race into
            running.decrementAndGet();
        }
    }

    @Test
    void afterAForeignRemovalReturnsTheCallbackIsNotRunningAndNeverStarts() throws Exception {
        int threads = 4;
        int rounds = 5_000;
        AtomicLong lateStarts = new AtomicLong();
        AtomicLong runningAtReturn = new AtomicLong();
        AtomicLong dispatched = new AtomicLong();
        int fdsBefore = Fds.openFdCount();
        try (IOThread io = Aiolos.newIOThread("foreign-removal")) {
            io.start();
            AiolosContext ctx = (AiolosContext) io.context();
            List<Thread> removers = new ArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            List<Throwable> errors = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                removers.add(Thread.ofPlatform().name("remover-" + t).start(() -> {
                    try (EventFd ev = EventFd.open(false)) {
                        ev.set(); // readable for good: level-triggered, dispatched every turn
                        go.await();
                        for (int r = 0; r < rounds; r++) {
                            Probe p = new Probe();
                            ctx.setFdHandler(ev.fd(), () -> p.callback(lateStarts), null);
                            if (r % 8 == 0) {
                                while (p.calls.get() == 0) { // now and then, remove mid-dispatch for sure
                                    Thread.onSpinWait();
                                }
                            }
                            ctx.removeFdHandler(ev.fd());
                            p.retired.set(true);
                            if (p.running.get() != 0) {
                                runningAtReturn.incrementAndGet();
                            }
                            dispatched.addAndGet(p.calls.get());
                        }
                    } catch (Throwable e) {
                        synchronized (errors) {
                            errors.add(e);
                        }
                    }
                }));
            }
            go.countDown();
            for (Thread t : removers) {
                t.join();
            }
            assertTrue(errors.isEmpty(), errors.toString());
            assertEquals(0, ctx.stats().callbackFailures());
        }
        assertTrue(dispatched.get() >= threads * (rounds / 8), "callbacks ran: " + dispatched.get());
        assertEquals(0, lateStarts.get(), "callbacks that started after removeFdHandler returned");
        assertEquals(0, runningAtReturn.get(), "callbacks still running when removeFdHandler returned");
        assertEquals(fdsBefore, Fds.openFdCount());
    }

    /**
     * Two loops removing each other's handlers from inside their own callbacks must not
     * wait for each other: a thread running a loop's callback does not wait (the contract
     * there is the home thread's: never called again once the current call returns).
     */
    @Test
    void loopsRemovingEachOthersHandlersFromCallbacksDoNotDeadlock() throws Exception {
        try (IOThread a = Aiolos.newIOThread("cross-a"); IOThread b = Aiolos.newIOThread("cross-b");
             EventFd ea = EventFd.open(false); EventFd eb = EventFd.open(false)) {
            a.start();
            b.start();
            CountDownLatch done = new CountDownLatch(200);
            AtomicInteger round = new AtomicInteger();
            Runnable[] onA = new Runnable[1];
            Runnable[] onB = new Runnable[1];
            // Each callback re-registers the other loop's handler and removes it again.
            onA[0] = () -> {
                b.context().setFdHandler(eb.fd(), onB[0], null);
                b.context().removeFdHandler(eb.fd());
                b.context().setFdHandler(eb.fd(), onB[0], null);
                done.countDown();
                round.incrementAndGet();
            };
            onB[0] = () -> {
                a.context().setFdHandler(ea.fd(), onA[0], null);
                a.context().removeFdHandler(ea.fd());
                a.context().setFdHandler(ea.fd(), onA[0], null);
                done.countDown();
            };
            ea.set();
            eb.set();
            a.context().setFdHandler(ea.fd(), onA[0], null);
            b.context().setFdHandler(eb.fd(), onB[0], null);
            assertTrue(done.await(60, TimeUnit.SECONDS), "both loops kept going: " + round.get());
            a.context().removeFdHandler(ea.fd());
            b.context().removeFdHandler(eb.fd());
        }
    }
}
