package org.aiolos.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
import org.aiolos.api.diskio.DiskFile;
import org.aiolos.api.diskio.DiskIoEngineFactory;
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
 * halves, eventfd traffic, timers, coroutines hopping between them under a CoMutex,
 * thread-pool jobs, and random 4 KiB disk writes and verified reads on a temporary file,
 * O_DIRECT where the filesystem allows) while, every 3 s, either their fd monitors or
 * their disk engines are swapped, alternately. Every request is counted, and the fd count,
 * thread count, heap after GC and RSS are printed each minute and must end flat.
 *
 * <p>It lives in itests, not core, because it needs every backend on the class path
 * (core cannot depend on the thread pool, which carries the pool and the threads engine);
 * it is a plain surefire test there, the providers found by {@link java.util.ServiceLoader}.
 */
@Tag("soak")
class SoakTest {
    private static final int THREADS = 3;

    @Test
    void mixedLoadWithMonitorSwapsStaysFlat() throws Exception {
        long seconds = Long.getLong("aiolos.soak.seconds", 600);
        warmUpOnce();
        Snapshot start = Snapshot.take();
        List<String> startFds = fdTargets();
        System.out.println("soak: " + seconds + " s, start " + start);

        List<IOThread> io = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            IOThread t = Aiolos.newIOThread(ContextOptions.ioThreadDefaults("soak-" + i));
            t.start();
            io.add(t);
        }
        Load load = new Load(io);
        load.start();
        List<PoolDisk> poolDisk = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            poolDisk.add(new PoolDisk(io.get(i).context(), i));
        }
        String[] monitors = {"poll", "epoll", "io_uring"};
        String[] engines = {DiskIoEngineFactory.NATIVE, DiskIoEngineFactory.IO_URING, DiskIoEngineFactory.THREADS};
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long nextReport = System.nanoTime() + 60_000_000_000L;
        int swap = 0;
        while (System.nanoTime() < end) {
            Thread.sleep(3_000);
            for (IOThread t : io) {
                AiolosContext c = (AiolosContext) t.context();
                if (swap % 2 == 0) {
                    c.useFdMonitor(monitors[(swap / 2) % monitors.length]);
                } else {
                    c.useDiskEngine(engines[(swap / 2) % engines.length]);
                }
            }
            swap++;
            if (System.nanoTime() > nextReport) {
                nextReport += 60_000_000_000L;
                System.out.println("soak: " + load.summary() + "; " + PoolDisk.summary(poolDisk) + "; " + Snapshot.take());
            }
        }
        load.stop();
        for (PoolDisk pd : poolDisk) {
            pd.close();
        }
        System.out.println("soak: " + swap + " swaps (fd monitor and disk engine alternately); " + load.summary()
                + "; " + PoolDisk.summary(poolDisk) + (poolDisk.get(0).direct ? " (O_DIRECT)" : " (buffered)"));
        load.assertAllAccountedFor();
        for (PoolDisk pd : poolDisk) {
            pd.assertAllAccountedFor();
        }
        for (IOThread t : io) {
            t.close();
        }
        Snapshot after = Snapshot.take();
        System.out.println("soak: end " + after);
        if (start.fds != after.fds) {
            List<String> added = new ArrayList<>(fdTargets());
            added.removeAll(startFds);
            List<String> gone = new ArrayList<>(startFds);
            gone.removeAll(fdTargets());
            assertEquals(start.fds, after.fds, "fds; new: " + added + ", gone: " + gone);
        }
        assertEquals(start.threads, after.threads, "threads");
        assertTrue(after.heapAfterGc < start.heapAfterGc + 32L * 1024 * 1024,
                "heap after GC grew by more than 32 MiB: " + start.heapAfterGc + " -> " + after.heapAfterGc);
    }

    /** Loads what the run uses once (classes, jars, native libraries), so the start figures hold them. */
    private static void warmUpOnce() throws Exception {
        IOThread t = Aiolos.newIOThread(ContextOptions.ioThreadDefaults("soak-warm"));
        t.start();
        Coroutine co = Coroutines.create(() -> Coroutines.sleepNs(ClockType.REALTIME, 1_000_000));
        t.context().coSchedule(co);
        PoolDisk pd = new PoolDisk(t.context(), 0);
        for (String engine : new String[] {DiskIoEngineFactory.NATIVE, DiskIoEngineFactory.IO_URING,
                DiskIoEngineFactory.THREADS}) {
            ((AiolosContext) t.context()).useDiskEngine(engine);
            Thread.sleep(100);
        }
        pd.close();
        pd.assertAllAccountedFor();
        t.close();
    }

    /** What /proc/self/fd points at, for a failure message. */
    private static List<String> fdTargets() {
        List<String> out = new ArrayList<>();
        try (var dir = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : (Iterable<Path>) dir::iterator) {
                try {
                    out.add(p.getFileName() + "->" + Files.readSymbolicLink(p));
                } catch (java.io.IOException gone) {
                    // the directory's own fd, or closed meanwhile
                }
            }
        } catch (java.io.IOException e) {
            out.add(e.toString());
        }
        return out;
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

    /**
     * Thread-pool jobs and disk I/O on one context, driven from its home thread: up to
     * {@value #DEPTH} of each in flight, topped up by a 1 ms timer (not on completion: the
     * pool and the disk must not starve the rest of the mix). Each disk slot owns a disjoint set of 4 KiB blocks and alternates a write of
     * a fresh stamp to a random block of its set with a read of a random block of its set,
     * checked against the stamp last written there (zeros if never written). Every request
     * is counted asked and completed; failures and mismatches are counted.
     */
    private static final class PoolDisk {
        private static final int DEPTH = 4;
        private static final int BLOCK = 4096;
        private static final int BLOCKS_PER_SLOT = 64;

        private final AioContext ctx;
        private final int index;
        private final Path path;
        private final int fd;
        private final DiskFile file;
        final boolean direct;
        private final Arena arena = Arena.ofShared();
        private final MemorySegment[] buffers = new MemorySegment[DEPTH];
        /** The stamp last written to each block (home thread; slots own disjoint blocks). */
        private final long[] stamps = new long[DEPTH * BLOCKS_PER_SLOT];
        private final boolean[] slotBusy = new boolean[DEPTH];
        private final boolean[] slotWritesNext = new boolean[DEPTH];
        private final AioTimer refill;
        private volatile boolean running = true;
        // home thread
        private int poolOwn;
        private long nextStamp;
        final AtomicLong poolAsked = new AtomicLong();
        final AtomicLong poolCompleted = new AtomicLong();
        final AtomicLong poolFailed = new AtomicLong();
        final AtomicLong diskAsked = new AtomicLong();
        final AtomicLong diskCompleted = new AtomicLong();
        final AtomicLong diskFailed = new AtomicLong();
        final AtomicLong reads = new AtomicLong();
        final AtomicLong mismatches = new AtomicLong();

        PoolDisk(AioContext ctx, int index) throws Exception {
            this.ctx = ctx;
            this.index = index;
            this.path = Files.createTempFile("aiolos-soak-", ".img");
            int f;
            try {
                f = org.aiolos.linux.Files.open(path.toString(), org.aiolos.linux.Files.O_RDWR
                        | org.aiolos.linux.Files.O_CLOEXEC | org.aiolos.linux.Files.O_DIRECT, 0);
            } catch (RuntimeException noDirect) { // tmpfs and friends: EINVAL
                f = org.aiolos.linux.Files.open(path.toString(),
                        org.aiolos.linux.Files.O_RDWR | org.aiolos.linux.Files.O_CLOEXEC, 0);
            }
            this.fd = f;
            org.aiolos.linux.Files.ftruncate(fd, (long) stamps.length * BLOCK);
            this.file = org.aiolos.linux.Files.diskFile(fd);
            this.direct = file.direct();
            for (int i = 0; i < DEPTH; i++) {
                buffers[i] = arena.allocate(BLOCK, BLOCK);
                slotWritesNext[i] = true;
            }
            refill = ctx.newTimer(ClockType.REALTIME, TimeScale.MS, this::tick);
            ctx.scheduleOneshot("soak-pool-disk-start", this::tick);
        }

        private void tick() {
            topUp();
            if (running) {
                refill.mod(ctx.clocks().now(ClockType.REALTIME, TimeScale.MS) + 1);
            }
        }

        private void topUp() {
            while (running && poolOwn < DEPTH) {
                submitPool();
                poolOwn++;
            }
            for (int s = 0; s < DEPTH && running; s++) {
                if (!slotBusy[s]) {
                    slotBusy[s] = true;
                    submitDisk(s);
                }
            }
        }

        private void submitPool() {
            long x = ThreadLocalRandom.current().nextLong();
            poolAsked.incrementAndGet();
            ctx.threadPool().submit(() -> Long.rotateLeft(x, 7) ^ 0x5a5a5a5aL, (Long r, Throwable failure) -> {
                poolOwn--;
                poolCompleted.incrementAndGet();
                if (failure != null || r == null || r != (Long.rotateLeft(x, 7) ^ 0x5a5a5a5aL)) {
                    poolFailed.incrementAndGet();
                }
            });
        }

        private void submitDisk(int slot) {
            int block = slot + DEPTH * ThreadLocalRandom.current().nextInt(BLOCKS_PER_SLOT);
            MemorySegment buf = buffers[slot];
            boolean write = slotWritesNext[slot];
            slotWritesNext[slot] = !write;
            diskAsked.incrementAndGet();
            if (write) {
                long stamp = ((long) (index + 1) << 48) | ++nextStamp;
                for (long o = 0; o < BLOCK; o += 8) {
                    buf.set(ValueLayout.JAVA_LONG, o, stamp ^ o);
                }
                ctx.diskIo().writev(file, (long) block * BLOCK, new MemorySegment[] {buf}, false, result -> {
                    if (result == BLOCK) {
                        stamps[block] = stamp;
                    } else {
                        diskFailed.incrementAndGet();
                    }
                    diskDone(slot);
                });
            } else {
                ctx.diskIo().readv(file, (long) block * BLOCK, new MemorySegment[] {buf}, result -> {
                    if (result != BLOCK) {
                        diskFailed.incrementAndGet();
                    } else {
                        reads.incrementAndGet();
                        long stamp = stamps[block];
                        for (long o = 0; o < BLOCK; o += 8) {
                            if (buf.get(ValueLayout.JAVA_LONG, o) != (stamp == 0 ? 0 : stamp ^ o)) {
                                mismatches.incrementAndGet();
                                break;
                            }
                        }
                    }
                    diskDone(slot);
                });
            }
        }

        private void diskDone(int slot) {
            diskCompleted.incrementAndGet();
            slotBusy[slot] = false;
        }

        /** Stops submitting, waits for every asked request, then releases the file and timer. */
        void close() throws Exception {
            running = false;
            long deadline = System.nanoTime() + 30_000_000_000L;
            while ((poolCompleted.get() < poolAsked.get() || diskCompleted.get() < diskAsked.get())
                    && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            java.util.concurrent.CountDownLatch cancelled = new java.util.concurrent.CountDownLatch(1);
            ctx.scheduleOneshot("soak-pool-disk-close", () -> {
                refill.cancel();
                cancelled.countDown();
            });
            cancelled.await(5, java.util.concurrent.TimeUnit.SECONDS);
            org.aiolos.linux.Fds.close(fd);
            Files.deleteIfExists(path);
            arena.close();
        }

        void assertAllAccountedFor() {
            assertEquals(poolAsked.get(), poolCompleted.get(), ctx.name() + ": every pool job completed exactly once");
            assertEquals(diskAsked.get(), diskCompleted.get(), ctx.name() + ": every disk request completed exactly once");
            assertEquals(0, poolFailed.get(), ctx.name() + ": pool jobs failed or returned wrong results");
            assertEquals(0, diskFailed.get(), ctx.name() + ": disk requests failed or were short");
            assertEquals(0, mismatches.get(), ctx.name() + ": reads that did not return what was written");
            assertTrue(poolCompleted.get() > 0 && reads.get() > 0, ctx.name() + ": no pool or disk load ran");
        }

        static String summary(List<PoolDisk> all) {
            long pa = 0, pc = 0, da = 0, dc = 0, rd = 0, bad = 0;
            for (PoolDisk p : all) {
                pa += p.poolAsked.get();
                pc += p.poolCompleted.get();
                da += p.diskAsked.get();
                dc += p.diskCompleted.get();
                rd += p.reads.get();
                bad += p.mismatches.get() + p.diskFailed.get() + p.poolFailed.get();
            }
            return "pool jobs " + pc + "/" + pa + ", disk requests " + dc + "/" + da + " (" + rd + " reads verified), failed or mismatched " + bad;
        }
    }

    /**
     * fds, live threads, heap after a GC, RSS, and the native memory Native Memory Tracking
     * sees as committed (total, and "Other": FFM/Unsafe allocations such as the rings' and
     * the requests' buffers), -1 when the JVM runs without {@code -XX:NativeMemoryTracking}.
     */
    private record Snapshot(int fds, int threads, long heapAfterGc, long rssKb, long nmtKb, long nmtOtherKb) {
        static Snapshot take() throws Exception {
            for (int i = 0; i < 3; i++) {
                System.gc();
                Thread.sleep(100);
            }
            long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            long rss = Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("VmRSS:")).map(l -> l.replaceAll("\\D", "")).mapToLong(Long::parseLong)
                    .findFirst().orElse(-1);
            String nmt = nativeMemorySummary();
            return new Snapshot(Fds.openFdCount(), ManagementFactory.getThreadMXBean().getThreadCount(), heap, rss,
                    committedKb(nmt, "Total: "), committedKb(nmt, "- Other ("));
        }

        /** jcmd VM.native_memory summary, through the DiagnosticCommand MBean. */
        private static String nativeMemorySummary() {
            try {
                return String.valueOf(ManagementFactory.getPlatformMBeanServer().invoke(
                        new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                        new Object[] {new String[] {"summary", "scale=KB"}}, new String[] {String[].class.getName()}));
            } catch (Exception e) {
                return "";
            }
        }

        /** The committed KB of the summary line that starts with {@code prefix}, or -1. */
        private static long committedKb(String nmt, String prefix) {
            for (String line : nmt.split("\n")) {
                String t = line.strip().replaceAll("\\s+", " ");
                if (t.startsWith(prefix)) {
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("committed=(\\d+)KB").matcher(t);
                    if (m.find()) {
                        return Long.parseLong(m.group(1));
                    }
                }
            }
            return -1;
        }

        @Override
        public String toString() {
            return "fds=" + fds + " threads=" + threads + " heapAfterGc=" + heapAfterGc / 1024 + "KiB rss=" + rssKb
                    + "KiB nmtCommitted=" + nmtKb + "KiB nmtOther=" + nmtOtherKb + "KiB";
        }
    }
}
