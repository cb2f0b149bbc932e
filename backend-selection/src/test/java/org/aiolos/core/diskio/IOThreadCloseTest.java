package org.aiolos.core.diskio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.aiolos.api.AioContext;
import org.aiolos.api.IOThread;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.core.Aiolos;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.DiskIoEngineProviders;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.diskio.iouring.IoUringEngineFactory;
import org.aiolos.fdmon.iouring.IoUringFdMonitorFactory;
import org.aiolos.linux.Fds;
import org.aiolos.testkit.Io;
import org.aiolos.testkit.TestFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Closing an IOThread with disk requests in flight, on the default set-up (the io_uring
 * engine on the io_uring monitor's ring): their completions run in the IOThread, a
 * completion that submits again is told the context is closing, none is lost, and no
 * descriptor or thread is left.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IOThreadCloseTest {
    static final int CHAINS = 64;

    @TempDir
    Path dir;
    TestFile file;
    Arena arena;
    final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void setUp() throws IOException {
        file = new TestFile(dir, 1 << 20, 3);
        arena = Arena.ofShared();
    }

    @AfterEach
    void tearDown() throws IOException {
        file.close();
        arena.close();
    }

    private IOThread newIOThread(String name) {
        FdMonitorProviders monitors = new FdMonitorProviders();
        monitors.add(new IoUringFdMonitorFactory(), 0);
        DiskIoEngineProviders engines = new DiskIoEngineProviders();
        engines.add(new IoUringEngineFactory(), 0);
        return Aiolos.newIOThread(ContextOptions.ioThreadDefaults(name).withFdMonitors(monitors)
                .withFdMonitor(FdMonitorFactory.IO_URING).withDiskEngines(engines)
                .withDiskEngine(DiskIoEngineFactory.IO_URING)
                .withFailureHandler((c, source, failure) -> failures.add(failure)));
    }

    /** What the chains saw; written in the IOThread, read after close() joined it. */
    static final class Chains {
        final AtomicInteger submitted = new AtomicInteger();
        final AtomicInteger completed = new AtomicInteger();
        final List<String> completedIn = Collections.synchronizedList(new ArrayList<>());
        final List<String> refusals = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch running = new CountDownLatch(CHAINS * 4);
    }

    /**
     * {@link #CHAINS} chains of reads, each completion submitting the next: at any moment
     * every chain has a request in flight, so close() always meets {@code CHAINS} of them.
     */
    private void submit(AioContext ctx, MemorySegment buf, Chains c, int i) {
        ctx.diskIo().readv(file.buffered, (long) i * 4096, new MemorySegment[] {buf}, r -> {
            c.completed.incrementAndGet();
            c.running.countDown();
            String me = Thread.currentThread().getName();
            if (!c.completedIn.contains(me)) {
                c.completedIn.add(me);
            }
            try {
                submit(ctx, buf, c, i);
            } catch (IllegalStateException refused) {
                c.refusals.add(refused.getMessage());
            }
        });
        c.submitted.incrementAndGet();
    }

    private Chains runAndClose(String name) throws InterruptedException {
        IOThread t = newIOThread(name);
        t.start();
        Chains c = new Chains();
        AioContext ctx = t.context();
        ctx.scheduleOneshot("start chains", () -> {
            for (int i = 0; i < CHAINS; i++) {
                submit(ctx, arena.allocate(4096), c, i);
            }
        });
        c.running.await(); // every chain is going
        t.close();
        assertFalse(t.thread().isAlive(), "the IOThread has ended");
        return c;
    }

    @Test
    void requestsInFlightAtCloseCompleteInTheIOThreadAndResubmissionsMeetTheClose() throws Exception {
        runAndClose("io-warm"); // class loading, JDK descriptors, io_uring's kernel workers
        int fds = Fds.openFdCount();
        int rings = Io.openFdsTo("anon_inode:[io_uring]");
        int threads = Io.threadCount();

        Chains c = runAndClose("io0");

        assertEquals(List.of("io0"), List.copyOf(c.completedIn), "every completion ran in the IOThread");
        assertEquals(c.submitted.get(), c.completed.get(), "every request submitted completed");
        assertEquals(CHAINS, c.refusals.size(), "each chain's last completion met the close: " + c.refusals);
        for (String m : c.refusals) {
            assertTrue(m.contains("'io0' is closing"), m);
        }
        assertEquals(List.of(), failures);
        assertEquals(rings, Io.openFdsTo("anon_inode:[io_uring]"), "io_uring descriptors after close");
        assertEquals(fds, Fds.openFdCount(), "descriptors after close");
        assertEquals(threads, Io.threadCount(), "threads after close: " + Io.threadNames());
    }
}
