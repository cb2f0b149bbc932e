package org.aiolos.core.diskio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.DiskIoEngineProviders;
import org.aiolos.core.TestContexts;
import org.aiolos.core.diskio.DiskEngineContract.Results;
import org.aiolos.fdmon.iouring.diskio.IoUringEngineFactory;
import org.aiolos.linux.Fds;
import org.aiolos.linuxaio.LinuxAioEngineFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Choosing a context's engine, and swapping it with requests in flight. */
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
        // Bounded: a lost completion fails the test with the state instead of hanging the build.
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gave up waiting after 20 s: " + ctx.diskIo());
            }
            ctx.poll(true);
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

    @Test
    void theHighestRankedAvailableEngineIsChosen() {
        open(null);
        assertNull(ctx.diskEngineName());
        assertEquals("io_uring", ctx.diskIo().name());
    }

    @Test
    void aConfiguredEngineIsUsed() {
        open("native");
        assertEquals("native", ctx.diskIo().name());
    }

    @Test
    void anUnknownConfiguredEngineFailsWithTheInstalledNames() {
        open("nvme-magic");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ctx.diskIo().name());
        assertTrue(e.getMessage().contains("'nvme-magic'") && e.getMessage().contains("io_uring")
                && e.getMessage().contains("native"), e.getMessage());
    }

    @Test
    void swappingDrainsTheOldEngineWhileNewRequestsGoToTheNewOne() {
        open("native");
        Results res = new Results(128);
        MemorySegment[][] first = submitReads(res, 0, 64);
        assertEquals("native", ctx.diskEngineName());
        ctx.useDiskEngine("io_uring");
        MemorySegment[][] second = submitReads(res, 64, 64);
        assertEquals("io_uring", ctx.diskEngineName(), "new requests go to the new engine");
        ContextDiskIo io = (ContextDiskIo) ctx.diskIo();
        assertEquals(1, io.drainingEngines(), "the old engine drains");
        assertEquals(128, io.inFlight());
        pollUntil(() -> res.all() && io.drainingEngines() == 0);
        check(res, first, 0);
        check(res, second, 64);
    }

    @Test
    void stoppingTheProviderInUseLosesNoCompletionAndMovesOn() {
        open(null);
        Results res = new Results(96);
        MemorySegment[][] first = submitReads(res, 0, 64);
        assertEquals("io_uring", ctx.diskEngineName());
        providers.remove(uringFactory); // the bundle stops, with 64 requests in flight
        MemorySegment[][] second = submitReads(res, 64, 32);
        assertEquals("native", ctx.diskEngineName());
        ContextDiskIo io = (ContextDiskIo) ctx.diskIo();
        pollUntil(() -> res.all() && io.drainingEngines() == 0);
        check(res, first, 0);
        check(res, second, 64);
    }

    @Test
    void withNoProviderLeftNewRequestsFailClearlyAndOldOnesComplete() {
        open(null);
        Results res = new Results(16);
        MemorySegment[][] bufs = submitReads(res, 0, 16);
        providers.remove(uringFactory);
        providers.remove(nativeFactory);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ctx.diskIo().readv(file.direct, 0,
                new MemorySegment[] {TestFile.buffer(arena, 4096)}, r -> { }));
        assertTrue(e.getMessage().contains("no disk-I/O engine") && e.getMessage().contains("no engine provider"),
                e.getMessage());
        ContextDiskIo io = (ContextDiskIo) ctx.diskIo();
        pollUntil(() -> res.all() && io.drainingEngines() == 0);
        check(res, bufs, 0);
        providers.add(nativeFactory, 10); // a provider returns
        assertEquals("native", ctx.diskIo().name());
    }

    @Test
    void repeatedSwapsLeaveNoDescriptorBehind() {
        open(null);
        ctx.diskIo().name();
        int fds = Fds.openFdCount();
        for (int round = 0; round < 20; round++) {
            ctx.useDiskEngine(round % 2 == 0 ? "native" : "io_uring");
            Results res = new Results(8);
            submitReads(res, 0, 8);
            ContextDiskIo io = (ContextDiskIo) ctx.diskIo();
            pollUntil(() -> res.all() && io.drainingEngines() == 0);
        }
        ctx.useDiskEngine("io_uring");
        ctx.diskIo().name();
        ContextDiskIo io = (ContextDiskIo) ctx.diskIo();
        pollUntil(() -> io.drainingEngines() == 0);
        assertEquals(fds, Fds.openFdCount());
    }
}
