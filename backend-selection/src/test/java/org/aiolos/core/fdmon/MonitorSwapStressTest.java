package org.aiolos.core.fdmon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicLongArray;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.fdmon.epoll.EpollFdMonitorFactory;
import org.aiolos.fdmon.iouring.IoUringFdMonitorFactory;
import org.aiolos.fdmon.poll.PollFdMonitorFactory;
import org.aiolos.linux.EventFd;
import org.aiolos.linux.Fds;
import org.aiolos.testkit.Io;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hot swap under load: writer threads keep putting counted bytes into eventfds and pipes
 * while another thread makes the context swap among poll, epoll and io_uring at least
 * {@value #SWAPS} times, and the loop itself keeps removing and re-adding handlers. At the
 * end every byte written has been read, no handler ran after its removal or found nothing
 * to read (a dispatch twice for one readiness), nothing hung, and the fd and thread
 * counts are back where they started.
 */
class MonitorSwapStressTest {
    private static final int SWAPS = 1000;
    private static final int PIPES = 6;
    private static final int EVENTFDS = 6;
    private static final String[] MONITORS = {"poll", "epoll", "io_uring"};

    /** One watched fd and what went through it. */
    private static final class Channel {
        final int readFd;
        final int writeFd;
        final boolean eventFd;
        final AtomicLong written = new AtomicLong();
        long read; // home thread
        long emptyReads; // home thread
        boolean registered; // home thread
        long callsAfterRemoval; // home thread

        Channel(int readFd, int writeFd, boolean eventFd) {
            this.readFd = readFd;
            this.writeFd = writeFd;
            this.eventFd = eventFd;
        }

        /** Writer thread: one write of a counted amount. */
        void writeSome(ThreadLocalRandom rnd) {
            if (eventFd) {
                Io.bumpEventFd(writeFd);
                written.incrementAndGet();
            } else {
                written.addAndGet(Io.write(writeFd, 1 + rnd.nextInt(64)));
            }
        }

        /** Home thread: the read handler. */
        void onReadable() {
            if (!registered) {
                callsAfterRemoval++;
            }
            long got = eventFd ? Io.readEventFd(readFd) : Math.max(0, Io.drain(readFd));
            if (got == 0) {
                emptyReads++;
            }
            read += got;
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void swapsUnderLoadLoseNothing() throws Exception {
        int fdsBefore = Fds.openFdCount();
        int threadsBefore = Io.threadCount();
        int uringWorkersBefore = Io.ioUringKernelThreads();
        int tasksBefore = Io.processThreadCount();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        FdMonitorProviders providers = new FdMonitorProviders();
        providers.add(new PollFdMonitorFactory(), 0);
        providers.add(new EpollFdMonitorFactory(), 0);
        providers.add(new IoUringFdMonitorFactory(), 0);

        List<Channel> channels = new ArrayList<>();
        List<EventFd> eventFds = new ArrayList<>();
        for (int i = 0; i < PIPES; i++) {
            int[] p = Fds.pipe();
            channels.add(new Channel(p[0], p[1], false));
        }
        for (int i = 0; i < EVENTFDS; i++) {
            EventFd e = EventFd.open(false);
            eventFds.add(e);
            channels.add(new Channel(e.fd(), e.fd(), true));
        }

        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicBoolean looping = new AtomicBoolean(true);
        AtomicReference<AiolosContext> ctxRef = new AtomicReference<>();
        AtomicReference<Throwable> loopError = new AtomicReference<>();
        AtomicLongArray stats = new AtomicLongArray(2); // [0] swaps seen, [1] loop iterations
        java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch drained = new java.util.concurrent.CountDownLatch(1);

        Thread loop = new Thread(() -> {
            AiolosContext ctx = Aiolos.newContext(ContextOptions.defaults("swap-stress").withFdMonitor("poll")
                    .withFdMonitors(providers)
                    .withFailureHandler((c, source, failure) -> failures.add(source + ": " + failure)));
            AioTimer tick = ctx.newTimer(ClockType.REALTIME, TimeScale.MS, () -> { });
            try {
                for (Channel ch : channels) {
                    ch.registered = true;
                    ctx.setFdHandler(ch.readFd, ch::onReadable, null);
                }
                ctxRef.set(ctx);
                ready.countDown();
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                long iterations = 0;
                while (looping.get()) {
                    if (!tick.isPending()) {
                        tick.mod(ctx.clocks().now(ClockType.REALTIME, TimeScale.MS) + 10);
                    }
                    ctx.poll(true);
                    iterations++;
                    if (writing.get() && rnd.nextInt(8) == 0) {
                        // Handler churn in the home thread: remove one, maybe re-add another.
                        Channel ch = channels.get(rnd.nextInt(channels.size()));
                        if (ch.registered) {
                            ctx.removeFdHandler(ch.readFd);
                            ch.registered = false;
                        } else {
                            ch.registered = true;
                            ctx.setFdHandler(ch.readFd, ch::onReadable, null);
                        }
                    } else if (!writing.get()) {
                        for (Channel ch : channels) {
                            if (!ch.registered) {
                                ch.registered = true;
                                ctx.setFdHandler(ch.readFd, ch::onReadable, null);
                            }
                        }
                        if (channels.stream().allMatch(c -> c.read == c.written.get())) {
                            drained.countDown();
                        }
                    }
                }
                stats.set(1, iterations);
                stats.set(0, ctx.stats().monitorSwaps());
                for (Channel ch : channels) {
                    ctx.removeFdHandler(ch.readFd);
                }
            } catch (Throwable t) {
                loopError.set(t);
                ready.countDown();
            } finally {
                tick.cancel();
                ctx.close();
            }
        }, "swap-stress-loop");
        loop.start();
        assertTrue(ready.await(10, TimeUnit.SECONDS), "the loop started");
        AiolosContext ctx = ctxRef.get();

        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            Thread t = new Thread(() -> {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                while (writing.get()) {
                    channels.get(rnd.nextInt(channels.size())).writeSome(rnd);
                    if (rnd.nextInt(16) == 0) {
                        Thread.onSpinWait();
                        Thread.yield();
                    }
                }
            }, "swap-stress-writer-" + w);
            t.start();
            writers.add(t);
        }

        // The swapper: ask for the next monitor, wait until the loop has swapped to it.
        long start = System.nanoTime();
        int requested = 0;
        long deadline = start + TimeUnit.SECONDS.toNanos(40);
        while (ctx.stats().monitorSwaps() < SWAPS && System.nanoTime() < deadline && loopError.get() == null) {
            String next = MONITORS[(requested + 1) % MONITORS.length];
            ctx.useFdMonitor(next);
            requested++;
            while (!next.equals(ctx.fdMonitorName()) && System.nanoTime() < deadline && loopError.get() == null) {
                java.util.concurrent.locks.LockSupport.parkNanos(20_000); // leave the 2 cores to loop and writers
            }
        }
        long swapNs = System.nanoTime() - start;
        writing.set(false);
        for (Thread t : writers) {
            t.join();
        }
        boolean allRead = drained.await(20, TimeUnit.SECONDS);
        looping.set(false);
        ctx.wakeUp();
        loop.join(TimeUnit.SECONDS.toMillis(20));
        assertTrue(!loop.isAlive(), "the loop thread ended (nothing hung)");
        if (loopError.get() != null) {
            throw new AssertionError("the loop failed", loopError.get());
        }

        long totalWritten = 0;
        StringBuilder detail = new StringBuilder();
        for (Channel ch : channels) {
            totalWritten += ch.written.get();
            detail.append(ch.eventFd ? " efd" : " pipe").append(ch.readFd).append(':').append(ch.read).append('/')
                    .append(ch.written.get()).append(" empty=").append(ch.emptyReads);
        }
        assertTrue(allRead, "every byte written was read:" + detail);
        assertTrue(stats.get(0) >= SWAPS, "swaps: " + stats.get(0) + " in " + swapNs / 1_000_000 + " ms");
        assertTrue(totalWritten > 10_000, "writers made real traffic: " + totalWritten);
        for (Channel ch : channels) {
            assertEquals(ch.written.get(), ch.read, "fd " + ch.readFd + ": bytes read == bytes written");
            assertEquals(0, ch.callsAfterRemoval, "fd " + ch.readFd + ": no call after removal");
            assertEquals(0, ch.emptyReads, "fd " + ch.readFd + ": never dispatched without data (no double dispatch)");
        }
        assertEquals(List.of(), failures, "callback failures");

        for (Channel ch : channels) {
            if (!ch.eventFd) {
                Fds.close(ch.readFd);
                Fds.close(ch.writeFd);
            }
        }
        eventFds.forEach(EventFd::close);
        assertEquals(fdsBefore, Fds.openFdCount(), "open fds before/after");
        assertEquals(threadsBefore, Io.threadCount(), () -> "threads before/after: " + Io.threadNames());
        // io_uring workers (if the kernel started any) leave with their rings, asynchronously.
        long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (Io.ioUringKernelThreads() > uringWorkersBefore && System.nanoTime() < settle) {
            Thread.sleep(10);
        }
        assertEquals(uringWorkersBefore, Io.ioUringKernelThreads(), "io_uring kernel workers before/after");
        System.out.printf("swap stress: %d swaps in %d ms (%.1f us each), %d loop iterations, %d bytes; "
                        + "process tasks %d before, %d after (the JIT's compiler threads vary)%n",
                stats.get(0), swapNs / 1_000_000, swapNs / 1000.0 / stats.get(0), stats.get(1), totalWritten,
                tasksBefore, Io.processThreadCount());
    }
}
