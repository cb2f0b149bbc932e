package org.aiolos.core.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.ClockType;
import org.aiolos.api.IOThread;
import org.aiolos.api.TimeScale;
import org.aiolos.api.coroutine.CoMutex;
import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.ContextOptions;
import org.aiolos.linux.EventFd;
import org.aiolos.linux.Fds;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The soak run (not in the default build: {@code ./mvnw verify -Psoak}, length with
 * {@code -Daiolos.soak.seconds=600}). Three IOThreads take mixed load (cross-thread bottom
 * halves, eventfd traffic, timers, coroutines hopping between them under a CoMutex)
 * while their fd monitors are swapped every few seconds. Every request is counted, and
 * the fd count, thread count, heap after GC and RSS are printed each minute and must end
 * flat.
 */
@Tag("soak")
class SoakTest {
    private static final int THREADS = 3;

    @Test
    void mixedLoadWithMonitorSwapsStaysFlat() throws Exception {
        long seconds = Long.getLong("aiolos.soak.seconds", 600);
        warmUpOnce();
        Snapshot start = Snapshot.take();
        System.out.println("soak: " + seconds + " s, start " + start);

        List<IOThread> io = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            IOThread t = Aiolos.newIOThread(ContextOptions.ioThreadDefaults("soak-" + i));
            t.start();
            io.add(t);
        }
        Load load = new Load(io);
        load.start();
        String[] monitors = {"poll", "epoll", "io_uring"};
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long nextReport = System.nanoTime() + 60_000_000_000L;
        int swap = 0;
        while (System.nanoTime() < end) {
            Thread.sleep(3_000);
            for (IOThread t : io) {
                ((AiolosContext) t.context()).useFdMonitor(monitors[swap % monitors.length]);
            }
            swap++;
            if (System.nanoTime() > nextReport) {
                nextReport += 60_000_000_000L;
                System.out.println("soak: " + load.summary() + "; " + Snapshot.take());
            }
        }
        load.stop();
        System.out.println("soak: " + swap + " swap rounds; " + load.summary());
        load.assertAllAccountedFor();
        for (IOThread t : io) {
            t.close();
        }
        Snapshot after = Snapshot.take();
        System.out.println("soak: end " + after);
        assertEquals(start.fds, after.fds, "fds");
        assertEquals(start.threads, after.threads, "threads");
        assertTrue(after.heapAfterGc < start.heapAfterGc + 32L * 1024 * 1024,
                "heap after GC grew by more than 32 MiB: " + start.heapAfterGc + " -> " + after.heapAfterGc);
    }

    private static void warmUpOnce() throws Exception {
        IOThread t = Aiolos.newIOThread(ContextOptions.ioThreadDefaults("soak-warm"));
        t.start();
        Coroutine co = Coroutines.create(() -> Coroutines.sleepNs(ClockType.REALTIME, 1_000_000));
        t.context().coSchedule(co);
        Thread.sleep(200);
        t.close();
    }

    /** The mixed load: every producer counts what it asked for and every callback what ran. */
    private static final class Load {
        private final List<IOThread> io;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicLong bhAsked = new AtomicLong();
        private final AtomicLong oneshotsRan = new AtomicLong();
        private final AtomicLong bhRan = new AtomicLong();
        private final AtomicLong kicksRead = new AtomicLong();
        private final AtomicLong timersFired = new AtomicLong();
        private final AtomicLong coFinished = new AtomicLong();
        private final AtomicLong coStarted = new AtomicLong();
        private final long[] sharedCounter = new long[1];
        private final CoMutex mutex = Coroutines.newMutex();
        private final List<Thread> producers = new ArrayList<>();
        private final List<EventFd> kicks = new ArrayList<>();
        private final List<BottomHalf> bhs = new ArrayList<>();
        private final List<AioTimer> timers = new ArrayList<>();

        Load(List<IOThread> io) {
            this.io = io;
        }

        void start() {
            for (IOThread t : io) {
                AioContext ctx = t.context();
                EventFd kick = EventFd.open(false);
                kicks.add(kick);
                ctx.setEventNotifier(kick, () -> {
                    if (kick.testAndClear()) {
                        kicksRead.incrementAndGet();
                    }
                }, null, null);
                BottomHalf bh = ctx.newBottomHalf("soak-bh", bhRan::incrementAndGet);
                bhs.add(bh);
                AioTimer[] timer = new AioTimer[1];
                timer[0] = ctx.newTimer(ClockType.REALTIME, TimeScale.US, () -> {
                    timersFired.incrementAndGet();
                    if (running.get()) {
                        timer[0].mod(ctx.clocks().now(ClockType.REALTIME, TimeScale.US) + 500);
                    }
                });
                timer[0].mod(0);
                timers.add(timer[0]);
            }
            producers.add(Thread.ofPlatform().name("soak-oneshots").start(() -> {
                while (running.get()) {
                    AioContext ctx = io.get(ThreadLocalRandom.current().nextInt(io.size())).context();
                    bhAsked.incrementAndGet();
                    ctx.scheduleOneshot("soak-oneshot", oneshotsRan::incrementAndGet);
                    pause();
                }
            }));
            producers.add(Thread.ofPlatform().name("soak-kicks").start(() -> {
                while (running.get()) {
                    kicks.get(ThreadLocalRandom.current().nextInt(kicks.size())).set();
                    bhs.get(ThreadLocalRandom.current().nextInt(bhs.size())).schedule();
                    pause();
                }
            }));
            producers.add(Thread.ofPlatform().name("soak-coroutines").start(() -> {
                while (running.get()) {
                    Coroutine co = Coroutines.create("soak-co", () -> {
                        for (int hop = 0; hop < 3; hop++) {
                            mutex.lock();
                            try {
                                sharedCounter[0]++;
                            } finally {
                                mutex.unlock();
                            }
                            Coroutines.rescheduleSelf(io.get(ThreadLocalRandom.current().nextInt(io.size())).context());
                        }
                        coFinished.incrementAndGet();
                    });
                    coStarted.incrementAndGet();
                    io.get(ThreadLocalRandom.current().nextInt(io.size())).context().coSchedule(co);
                    pause();
                }
            }));
        }

        private static void pause() {
            java.util.concurrent.locks.LockSupport.parkNanos(20_000);
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread p : producers) {
                p.join();
            }
            long deadline = System.nanoTime() + 30_000_000_000L;
            while ((oneshotsRan.get() < bhAsked.get() || coFinished.get() < coStarted.get()) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            for (int i = 0; i < io.size(); i++) {
                AioContext ctx = io.get(i).context();
                timers.get(i).cancel();
                bhs.get(i).delete();
                ctx.setEventNotifier(kicks.get(i), null, null, null);
            }
            Thread.sleep(100);
            kicks.forEach(EventFd::close);
        }

        void assertAllAccountedFor() {
            assertEquals(bhAsked.get(), oneshotsRan.get(), "every oneshot ran exactly once");
            assertEquals(coStarted.get(), coFinished.get(), "coroutines that never finished");
            assertEquals(3 * coFinished.get(), sharedCounterValue(), "CoMutex-protected counter");
            assertTrue(kicksRead.get() > 0 && timersFired.get() > 0 && bhRan.get() > 0, summary());
        }

        private long sharedCounterValue() {
            return sharedCounter[0];
        }

        String summary() {
            return "oneshots " + oneshotsRan + "/" + bhAsked + ", bottom halves " + bhRan + ", kicks read " + kicksRead + ", timers " + timersFired
                    + ", coroutines " + coFinished + "/" + coStarted;
        }
    }

    /** fds, live threads, heap after a GC, and RSS. */
    private record Snapshot(int fds, int threads, long heapAfterGc, long rssKb) {
        static Snapshot take() throws Exception {
            for (int i = 0; i < 3; i++) {
                System.gc();
                Thread.sleep(100);
            }
            long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            long rss = Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("VmRSS:")).map(l -> l.replaceAll("\\D", "")).mapToLong(Long::parseLong)
                    .findFirst().orElse(-1);
            return new Snapshot(Fds.openFdCount(), ManagementFactory.getThreadMXBean().getThreadCount(), heap, rss);
        }

        @Override
        public String toString() {
            return "fds=" + fds + " threads=" + threads + " heapAfterGc=" + heapAfterGc / 1024 + "KiB rss=" + rssKb + "KiB";
        }
    }
}
