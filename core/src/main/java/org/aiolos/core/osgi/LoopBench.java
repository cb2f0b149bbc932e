package org.aiolos.core.osgi;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.aiolos.api.AioContext;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.IOThread;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.ContextOptions;
import org.aiolos.linux.EventFd;

/**
 * {@code aio:bench}: about a second of measurements on a fresh IOThread, so live contexts
 * are not disturbed: bottom-half throughput in the loop, the cross-thread wake round trip
 * (schedule from here, run there, signal back) and the eventfd dispatch round trip
 * through the fd monitor.
 */
final class LoopBench {
    private static final long PHASE_NS = TimeUnit.MILLISECONDS.toNanos(300);
    private final BackendRegistry backends;

    LoopBench(BackendRegistry backends) {
        this.backends = backends;
    }

    String run(String fdmon) throws Exception {
        ContextOptions opts = ContextOptions.ioThreadDefaults("aio-bench").withFdMonitors(backends.fdMonitors())
                .withFdMonitor(fdmon);
        try (IOThread io = Aiolos.newIOThread(opts)) {
            io.start();
            AiolosContext ctx = (AiolosContext) io.context();
            awaitMonitor(ctx, fdmon);
            double bhRate = bottomHalfRate(ctx);
            double wakeUs = wakeRoundTripUs(ctx);
            double fdUs = fdRoundTripUs(ctx);
            return String.format("aio bench on fd monitor %s (%s)%n"
                            + "  bottom halves run in the loop: %,.0f /s%n"
                            + "  cross-thread wake round trip:  %.1f us%n"
                            + "  eventfd dispatch round trip:   %.1f us",
                    ctx.fdMonitorName(), fdmon == null ? "best available" : "requested " + fdmon, bhRate, wakeUs,
                    fdUs);
        }
    }

    private static void awaitMonitor(AiolosContext ctx, String fdmon) throws InterruptedException {
        if (fdmon != null) {
            MonitorWait.until(ctx, fdmon, 2_000);
        }
    }

    /** A bottom half that reschedules itself until the phase ends. */
    private static double bottomHalfRate(AioContext ctx) throws InterruptedException {
        AtomicLong runs = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        long[] window = new long[2];
        BottomHalf[] self = new BottomHalf[1];
        self[0] = ctx.newBottomHalf("bench-bh", () -> {
            long now = System.nanoTime();
            if (window[0] == 0) {
                window[0] = now;
            }
            runs.incrementAndGet();
            if (now - window[0] < PHASE_NS) {
                self[0].schedule();
            } else {
                window[1] = now;
                done.countDown();
            }
        });
        self[0].schedule();
        done.await();
        self[0].delete();
        return runs.get() / ((window[1] - window[0]) / 1e9);
    }

    private static double wakeRoundTripUs(AioContext ctx) throws InterruptedException {
        long n = 0;
        long start = System.nanoTime();
        while (System.nanoTime() - start < PHASE_NS) {
            CountDownLatch ran = new CountDownLatch(1);
            ctx.scheduleOneshot("bench-wake", ran::countDown);
            ran.await();
            n++;
        }
        return (System.nanoTime() - start) / 1e3 / n;
    }

    private static double fdRoundTripUs(AioContext ctx) throws InterruptedException {
        try (EventFd ping = EventFd.open(false)) {
            java.util.concurrent.Semaphore pong = new java.util.concurrent.Semaphore(0);
            ctx.setEventNotifier(ping, () -> {
                if (ping.testAndClear()) {
                    pong.release();
                }
            }, null, null);
            long n = 0;
            long start = System.nanoTime();
            while (System.nanoTime() - start < PHASE_NS) {
                ping.set();
                pong.acquire();
                n++;
            }
            long elapsed = System.nanoTime() - start;
            CountDownLatch removed = new CountDownLatch(1);
            ctx.setEventNotifier(ping, null, null, null);
            ctx.scheduleOneshot("bench-drain", removed::countDown);
            removed.await(); // the loop has passed a safe point: the handler is retired before the fd closes
            return elapsed / 1e3 / n;
        }
    }
}
