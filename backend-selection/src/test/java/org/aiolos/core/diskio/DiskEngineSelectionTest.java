package org.aiolos.core.diskio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.api.diskio.DiskIoEngine;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.api.BackendStatus;
import org.aiolos.core.DiskIoEngineProviders;
import org.aiolos.core.TestContexts;
import org.aiolos.testkit.DiskEngineContract;
import org.aiolos.testkit.DiskEngineContract.Results;
import org.aiolos.testkit.TestFile;
import org.aiolos.diskio.iouring.IoUringEngineFactory;
import org.aiolos.linux.Errno;
import org.aiolos.linux.Fds;
import org.aiolos.linuxaio.LinuxAioEngineFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Choosing a context's engine and swapping it: at a safe point of the loop only, with
 * requests in flight finishing on the old engine, requests waiting while no engine is
 * available, and a named engine that is missing replaced by the best available one.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DiskEngineSelectionTest {
    @TempDir
    Path dir;
    final TestContexts contexts = new TestContexts();
    final DiskIoEngineFactory nativeFactory = new LinuxAioEngineFactory();
    final DiskIoEngineFactory uringFactory = new IoUringEngineFactory();
    DiskIoEngineProviders providers;
    AiolosContext ctx;
    TestFile file;
    Arena arena;

    @BeforeEach
    void setUp() throws IOException {
        providers = new DiskIoEngineProviders();
        providers.add(nativeFactory, 10);
        providers.add(uringFactory, 20);
        file = new TestFile(dir, 1 << 20, 7);
        arena = Arena.ofShared();
    }

    @AfterEach
    void tearDown() throws IOException {
        if (ctx != null) {
            ctx.close();
        }
        file.close();
        arena.close();
        contexts.assertNoFailures();
    }

    private AiolosContext open(String engine) {
        ctx = Aiolos.newContext(contexts.options("select").withDiskEngines(providers).withDiskEngine(engine));
        ctx.poll(false);
        return ctx;
    }

    private void pollUntil(java.util.function.BooleanSupplier done) {
        // Bounded: a lost completion fails the test with the state instead of hanging the
        // build; the timer keeps a blocking poll from sleeping past the deadline.
        long deadline = System.nanoTime() + 20_000_000_000L;
        AioTimer tick = ctx.newTimer(ClockType.REALTIME, TimeScale.MS, () -> { });
        try {
            while (!done.getAsBoolean()) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("gave up waiting after 20 s: " + ctx.diskIo() + ", " + ctx.backends() + ", " + ctx.stats() + ", in flight " + ctx.diskIo().inFlight());
                }
                if (!tick.isPending()) { // re-arming every turn would notify, and a notified loop never blocks
                    tick.mod(ctx.clocks().now(ClockType.REALTIME, TimeScale.MS) + 100);
                }
                ctx.poll(true);
            }
        } finally {
            tick.cancel();
        }
    }

    private MemorySegment[][] submitReads(Results res, int from, int n) {
        MemorySegment[][] bufs = new MemorySegment[n][];
        for (int i = 0; i < n; i++) {
            bufs[i] = new MemorySegment[] {TestFile.buffer(arena, 4096)};
            ctx.diskIo().readv(file.direct, (from + i) * 4096L, bufs[i], res.slot(from + i));
        }
        return bufs;
    }

    private void check(Results res, MemorySegment[][] bufs, int from) {
        for (int i = 0; i < bufs.length; i++) {
            int off = (from + i) * 4096;
            assertEquals(4096, res.values[from + i], "request " + (from + i));
            assertArrayEquals(Arrays.copyOfRange(file.reference, off, off + 4096),
                    DiskEngineContract.concat(bufs[i]));
        }
    }

    private BackendStatus engineStatus() {
        return ctx.backends().stream().filter(b -> b.kind().equals("aio-engine")).findFirst().orElseThrow();
    }

    @Test
    void theHighestRankedAvailableEngineIsOpenedByTheFirstRequest() {
        open(null);
        assertNull(ctx.diskEngineName(), "nothing is opened before it is needed");
        Results res = new Results(1);
        submitReads(res, 0, 1);
        assertEquals("io_uring", ctx.diskEngineName());
        pollUntil(res::all);
    }

    /**
     * Outside OSGi the engines come from ServiceLoader, in the class path's order; each keeps
     * the rank its OSGi service has, so the best one is io_uring whatever that order is.
     */
    @Test
    void serviceLoaderEnginesKeepTheirOsgiRanking() {
        java.util.Map<String, Integer> ranks = new java.util.HashMap<>();
        for (var p : org.aiolos.core.DiskIoEngineProviders.system().list()) {
            ranks.put(p.name(), p.ranking());
        }
        assertEquals(java.util.Map.of("io_uring", 20, "native", 10, "threads", 0), ranks);
        assertEquals("io_uring", org.aiolos.core.DiskIoEngineProviders.system().best().name());
    }

    @Test
    void aConfiguredEngineIsUsed() {
        open("native");
        Results res = new Results(1);
        submitReads(res, 0, 1);
        assertEquals("native", ctx.diskEngineName());
        pollUntil(res::all);
    }

    @Test
    void anUnknownConfiguredEngineFallsBackToTheBestAvailableWithANoteNamingTheInstalledOnes() {
        open("nvme-magic");
        Results res = new Results(4);
        MemorySegment[][] bufs = submitReads(res, 0, 4);
        pollUntil(res::all);
        check(res, bufs, 0);
        assertEquals("io_uring", ctx.diskEngineName());
        String note = engineStatus().note();
        assertNotNull(note);
        assertTrue(note.contains("'nvme-magic'") && note.contains("io_uring") && note.contains("native"), note);
    }

    @Test
    void aSwapTakesEffectAtTheNextSafePointAndTheOldEngineDrains() {
        open("native");
        Results res = new Results(128);
        MemorySegment[][] first = submitReads(res, 0, 64);
        assertEquals("native", ctx.diskEngineName());
        ctx.useDiskEngine("io_uring");
        assertEquals("native", ctx.diskEngineName(), "no swap outside the loop's safe point");
        ctx.poll(false); // the safe point: native retires, io_uring opens
        assertEquals("io_uring", ctx.diskEngineName());
        MemorySegment[][] second = submitReads(res, 64, 64);
        pollUntil(() -> res.all() && engineStatus().draining() == 0);
        check(res, first, 0);
        check(res, second, 64);
    }

    /**
     * The NBD case: a completion of the current engine asks for another engine and submits
     * again at once. The swap waits for the safe point, so the completion never closes the
     * engine it runs in, and nothing fails or leaks.
     */
    @Test
    void swapsRequestedFromInsideCompletionsLoseNothing() {
        open("native");
        int fds = Fds.openFdCount();
        Results res = new Results(2000);
        int[] issued = {4};
        for (int k = 0; k < 4; k++) { // four chains in flight at once
            submitChained(res, issued, k);
        }
        pollUntil(() -> res.all() && engineStatus().draining() == 0);
        for (int i = 0; i < res.values.length; i++) {
            assertEquals(4096, res.values[i], "request " + i);
        }
        assertEquals(fds + 1, Fds.openFdCount(), "only the current engine's descriptor stays open");
    }

    /**
     * Completions that resubmit at once on a buffered file (cached reads complete inside
     * the submission) must still let the loop reach its safe point: a swap asked for from
     * a completion takes effect while the chains keep going, and the old engine drains.
     */
    @Test
    void aSwapTakesEffectWhileCompletionsResubmitAtOnce() {
        providers.add(new org.aiolos.threadpool.diskio.ThreadsEngineFactory(), 0);
        String[][] swaps = {{"native", "io_uring"}, {"io_uring", "native"}, {"threads", "io_uring"}};
        for (String[] swap : swaps) {
            open(swap[0]);
            assertEquals(swap[0], ctx.diskIo().name());
            int chains = 32;
            long deadline = System.nanoTime() + 5_000_000_000L; // chains stop then: a starved loop fails, not hangs
            long[] completed = new long[1];
            long[] bad = new long[1];
            long[] swappedAt = {-1};
            int[] active = {chains};
            DiskIoEngine.IoCompletion[] next = new DiskIoEngine.IoCompletion[chains];
            MemorySegment[][] bufs = new MemorySegment[chains][];
            for (int i = 0; i < chains; i++) {
                int c = i;
                bufs[i] = new MemorySegment[] {TestFile.buffer(arena, 4096)};
                next[i] = r -> {
                    completed[0]++;
                    if (r != 4096) {
                        bad[0]++;
                    }
                    if (completed[0] == 4L * chains) {
                        ctx.useDiskEngine(swap[1]);
                    }
                    if (swappedAt[0] < 0 && swap[1].equals(ctx.diskEngineName())) {
                        swappedAt[0] = completed[0];
                    }
                    boolean stop = swappedAt[0] >= 0 && completed[0] >= swappedAt[0] + 4L * chains
                            || System.nanoTime() > deadline;
                    if (stop) {
                        active[0]--;
                    } else {
                        ctx.diskIo().readv(file.buffered, c * 4096L, bufs[c], next[c]);
                    }
                };
                ctx.diskIo().readv(file.buffered, c * 4096L, bufs[c], next[c]);
            }
            pollUntil(() -> active[0] == 0 && engineStatus().draining() == 0);
            String what = swap[0] + " -> " + swap[1];
            assertEquals(0, bad[0], what + ": every read returns 4096");
            assertTrue(swappedAt[0] >= 0, what + ": the swap never took effect while the chains ran ("
                    + completed[0] + " completions, engine " + ctx.diskEngineName() + ")");
            assertEquals(swap[1], ctx.diskEngineName(), what);
            ctx.close();
            ctx = null;
        }
    }

    /** Each completion asks for the other engine, then submits the next request at once. */
    private void submitChained(Results res, int[] issued, int i) {
        MemorySegment[] buf = {TestFile.buffer(arena, 4096)};
        ctx.diskIo().readv(file.direct, (i % 256) * 4096L, buf, r -> {
            res.slot(i).complete(r);
            int next = issued[0]++;
            if (next < res.values.length) {
                ctx.useDiskEngine(next % 2 == 0 ? "io_uring" : "native");
                submitChained(res, issued, next);
            }
        });
    }

    @Test
    void stoppingTheProviderInUseLosesNoCompletionAndMovesOn() {
        open(null);
        Results res = new Results(96);
        MemorySegment[][] first = submitReads(res, 0, 64);
        assertEquals("io_uring", ctx.diskEngineName());
        providers.remove(uringFactory); // the bundle stops, with 64 requests in flight
        MemorySegment[][] second = submitReads(res, 64, 32); // held until the safe point
        pollUntil(() -> res.all() && engineStatus().draining() == 0);
        assertEquals("native", ctx.diskEngineName());
        check(res, first, 0);
        check(res, second, 64);
        assertEquals(0, providers.leasesOf(uringFactory), "the removed provider is no longer used");
    }

    @Test
    void withNoProviderRequestsWaitAndCompleteWhenOneReturns() {
        open(null);
        Results res = new Results(32);
        MemorySegment[][] old = submitReads(res, 0, 16);
        providers.remove(uringFactory);
        providers.remove(nativeFactory);
        ctx.poll(false); // the safe point: io_uring retires, and no engine is left to choose
        MemorySegment[][] waiting = submitReads(res, 16, 16);
        pollUntil(() -> res.completed == 16 && engineStatus().draining() == 0);
        check(res, old, 0);
        assertEquals(16, engineStatus().waiting(), "held, not failed");
        assertNull(ctx.diskEngineName());
        providers.add(nativeFactory, 10); // a provider returns: what waited goes to it
        pollUntil(res::all);
        check(res, waiting, 16);
        assertEquals("native", ctx.diskEngineName());
    }

    /** A context whose engine providers have all gone, waiting {@code waitMs} for one. */
    private void openWithoutEngines(long waitMs) {
        open(null);
        ctx.setBackendWaitMs(waitMs);
        providers.remove(uringFactory);
        providers.remove(nativeFactory);
        ctx.poll(false);
    }

    /** Every request completed with -ENODEV and none is held any more. */
    private void assertAllFailedWithEnodev(Results res) {
        pollUntil(res::all);
        for (long v : res.values) {
            assertEquals(-Errno.ENODEV, v);
        }
        assertEquals(0, engineStatus().waiting());
    }

    @Test
    void requestsThatWaitLongerThanBackendWaitFailWithEnodev() {
        openWithoutEngines(50);
        Results res = new Results(3);
        submitReads(res, 0, 3);
        assertAllFailedWithEnodev(res);
    }

    /** The framework stops: requests held for an engine fail with -ENODEV at once, not after an hour. */
    @Test
    void requestsHeldWhenNoEngineWillComeFailWithEnodevAtOnce() {
        openWithoutEngines(3_600_000);
        Results res = new Results(3);
        submitReads(res, 0, 2);
        ctx.poll(false);
        assertEquals(2, engineStatus().waiting(), "held while an engine may still come");
        providers.end("the framework is stopping");
        submitReads(res, 2, 1);
        assertAllFailedWithEnodev(res);
    }

    @Test
    void aNamedEngineThatGoesIsReplacedWithANoteAndComesBackWhenItReturns() {
        open("native");
        Results res = new Results(3);
        submitReads(res, 0, 1);
        pollUntil(() -> res.completed == 1);
        providers.remove(nativeFactory);
        ctx.poll(false);
        submitReads(res, 1, 1);
        pollUntil(() -> res.completed == 2);
        assertEquals("io_uring", ctx.diskEngineName());
        assertTrue(engineStatus().note().contains("'native'"), engineStatus().note());
        providers.add(nativeFactory, 10);
        ctx.poll(false);
        submitReads(res, 2, 1);
        pollUntil(() -> res.all() && engineStatus().draining() == 0);
        assertEquals("native", ctx.diskEngineName());
        assertNull(engineStatus().note());
    }

    @Test
    void repeatedSwapsLeaveNoDescriptorBehind() {
        open(null);
        Results warm = new Results(1);
        submitReads(warm, 0, 1);
        pollUntil(warm::all);
        int fds = Fds.openFdCount();
        for (int round = 0; round < 20; round++) {
            ctx.useDiskEngine(round % 2 == 0 ? "native" : "io_uring");
            Results res = new Results(8);
            submitReads(res, 0, 8);
            pollUntil(() -> res.all() && engineStatus().draining() == 0);
        }
        ctx.useDiskEngine("io_uring");
        ctx.poll(false);
        pollUntil(() -> engineStatus().draining() == 0);
        assertEquals(fds, Fds.openFdCount());
    }
}
