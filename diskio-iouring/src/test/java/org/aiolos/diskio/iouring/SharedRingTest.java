package org.aiolos.diskio.iouring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.fdmon.epoll.EpollFdMonitorFactory;
import org.aiolos.fdmon.iouring.IoUringFdMonitorFactory;
import org.aiolos.fdmon.poll.PollFdMonitorFactory;
import org.aiolos.testkit.CallbackFailures;
import org.aiolos.testkit.Closing;
import org.aiolos.testkit.DiskEngineContract;
import org.aiolos.testkit.TestFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The io_uring engine on the io_uring monitor's ring (QEMU 10.2's {@code aio_add_sqe}):
 * requests go through the monitor's ring and not the engine's own; fd-monitor swaps with
 * requests queued or in flight on the lent ring lose none and complete none twice, and
 * requests move to the private ring while the monitor is poll or epoll.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SharedRingTest {
    private static final int BLOCK = 4096;
    private static final int REQUESTS = 64;

    @TempDir
    Path dir;
    private final CallbackFailures failures = new CallbackFailures();
    private AiolosContext ctx;
    private IoUringEngine engine;
    private TestFile file;
    private Arena arena;

    @BeforeEach
    void open() throws IOException {
        IoUringFdMonitorFactory ioUring = new IoUringFdMonitorFactory();
        Assumptions.assumeTrue(IoUringEngineTest.FACTORY.unavailableReason() == null,
                () -> IoUringEngineTest.FACTORY.unavailableReason());
        Assumptions.assumeTrue(ioUring.unavailableReason() == null, ioUring::unavailableReason);
        FdMonitorProviders monitors = new FdMonitorProviders();
        monitors.add(ioUring, 0);
        monitors.add(new EpollFdMonitorFactory(), 0);
        monitors.add(new PollFdMonitorFactory(), 0);
        ctx = Aiolos.newContext(ContextOptions.defaults("shared-ring").withFdMonitors(monitors).withFdMonitor("io_uring")
                .withFailureHandler((c, source, failure) -> failures.record(source, failure)));
        ctx.poll(false); // this thread becomes the home thread
        assertEquals("io_uring", ctx.fdMonitorName());
        engine = (IoUringEngine) IoUringEngineTest.FACTORY.open(ctx);
        file = new TestFile(dir, REQUESTS * BLOCK, 5);
        arena = Arena.ofShared();
    }

    @AfterEach
    void close() throws Exception {
        Closing.all(engine, ctx, file, arena);
        failures.assertNone();
    }

    private static byte[] pattern(int round, int i) {
        byte[] b = new byte[BLOCK];
        new Random(round * 1000L + i).nextBytes(b);
        return b;
    }

    /** Writes block i of every request with round's pattern (O_DIRECT), without polling. */
    private DiskEngineContract.Results writeAll(int round) {
        DiskEngineContract.Results res = new DiskEngineContract.Results(REQUESTS);
        for (int i = 0; i < REQUESTS; i++) {
            MemorySegment buf = TestFile.buffer(arena, BLOCK);
            MemorySegment.copy(pattern(round, i), 0, buf, ValueLayout.JAVA_BYTE, 0, BLOCK);
            engine.writev(file.direct, (long) i * BLOCK, new MemorySegment[] {buf}, false, res.slot(i));
        }
        return res;
    }

    private void pollUntil(DiskEngineContract.Results res) {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!res.all()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gave up after 20 s with " + res.completed + " of " + res.values.length
                        + " completed: " + engine);
            }
            ctx.poll(true);
        }
        for (int i = 0; i < res.values.length; i++) {
            assertEquals(BLOCK, res.values[i], "request " + i);
        }
    }

    /** Reads every block back through the engine and compares it with round's pattern. */
    private void verify(int round) {
        DiskEngineContract.Results res = new DiskEngineContract.Results(REQUESTS);
        MemorySegment[] bufs = new MemorySegment[REQUESTS];
        for (int i = 0; i < REQUESTS; i++) {
            bufs[i] = TestFile.buffer(arena, BLOCK);
            engine.readv(file.direct, (long) i * BLOCK, new MemorySegment[] {bufs[i]}, res.slot(i));
        }
        pollUntil(res);
        for (int i = 0; i < REQUESTS; i++) {
            assertArrayEquals(pattern(round, i), bufs[i].toArray(ValueLayout.JAVA_BYTE), "round " + round + " block " + i);
        }
    }

    @Test
    void requestsGoThroughTheMonitorsRing() {
        DiskEngineContract.Results w = writeAll(1);
        pollUntil(w);
        verify(1);
        DiskEngineContract.Results f = new DiskEngineContract.Results(1);
        engine.flush(file.direct, f.slot(0));
        while (!f.all()) {
            ctx.poll(true);
        }
        assertEquals(0, f.values[0], "flush");
        assertTrue(engine.lentSubmissions() >= 2 * REQUESTS + 1, "lent: " + engine.lentSubmissions());
        assertEquals(0, engine.privateSubmissions(), "nothing on the engine's own ring");
    }

    @Test
    void monitorSwapsWithRequestsOnTheLentRingLoseNothing() {
        String[] next = {"epoll", "io_uring", "poll", "io_uring"};
        for (int round = 0; round < 12; round++) {
            boolean wasIoUring = ctx.fdMonitorName().equals("io_uring");
            long handedBefore = engine.handedOverAtSwap();
            DiskEngineContract.Results w = writeAll(round);
            if (round % 4 >= 2) {
                ctx.poll(false); // submitted (perhaps completed) before the swap; else still queued in the SQ
            }
            String to = next[round % next.length];
            ctx.useFdMonitor(to);
            ctx.poll(false); // the swap happens at this iteration's safe point, whatever has completed
            pollUntil(w); // every write completes exactly once (Results fails on a second completion)
            assertEquals(to, ctx.fdMonitorName());
            if (wasIoUring && round % 4 < 2) {
                // The writes sat unsubmitted in the old monitor's SQ at the swap: its close
                // submitted them, waited, and handed every completion over.
                assertTrue(engine.handedOverAtSwap() > handedBefore, "round " + round + ": handed over at the swap");
            }
            verify(round);
        }
        assertTrue(engine.lentSubmissions() > 0, "lent: " + engine.lentSubmissions());
        assertTrue(engine.privateSubmissions() > 0, "private: " + engine.privateSubmissions());
        assertEquals(0, engine.inFlight());
        byte[] onDisk = new byte[REQUESTS * BLOCK];
        try {
            onDisk = java.nio.file.Files.readAllBytes(file.path);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        for (int i = 0; i < REQUESTS; i++) {
            assertArrayEquals(pattern(11, i), java.util.Arrays.copyOfRange(onDisk, i * BLOCK, (i + 1) * BLOCK),
                    "the file holds the last round");
        }
    }

    @Test
    void closingTheEngineWithLentRequestsOutstandingRunsThemAll() {
        DiskEngineContract.Results w = writeAll(3);
        ctx.poll(false); // submitted on the monitor's ring
        engine.close(); // drains the lease: every completion runs before close returns
        assertTrue(w.all(), w.completed + " of " + REQUESTS);
        for (long v : w.values) {
            assertEquals(BLOCK, v);
        }
        engine = null;
    }
}
