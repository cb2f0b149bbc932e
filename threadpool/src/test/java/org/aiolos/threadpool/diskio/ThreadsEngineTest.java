package org.aiolos.threadpool.diskio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.aiolos.api.AioContext;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.core.Aiolos;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.DiskIoEngineProviders;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.linux.Errno;
import org.aiolos.linux.faults.Faults;
import org.aiolos.testkit.ContextSpec;
import org.aiolos.testkit.DiskEngineContract;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The engine suite (testkit's {@link DiskEngineContract}) on the {@code threads} engine,
 * in a core context, plus short transfers and EINTR forced with {@link Faults}.
 */
class ThreadsEngineTest extends DiskEngineContract {
    private static final DiskIoEngineFactory FACTORY = new ThreadsEngineFactory();

    @Override
    protected DiskIoEngineFactory factory() {
        return FACTORY;
    }

    /**
     * A fixed set of four workers: each worker thread carries a little per-thread native
     * state (errno capture), so a pool that keeps growing would look like a leak in the
     * before/after accounting.
     */
    @Override
    protected AioContext newContext(ContextSpec spec) {
        ContextOptions options = ContextOptions.defaults(spec.name()).withFdMonitors(new FdMonitorProviders())
                .withThreadPool(4, 4)
                .withFailureHandler((c, source, failure) -> spec.failures().record(source, failure));
        if (spec.diskEngine() != null) {
            DiskIoEngineProviders engines = new DiskIoEngineProviders();
            engines.add(spec.diskEngine(), 0);
            options = options.withDiskEngines(engines);
        }
        return Aiolos.newContext(options);
    }

    /** Each request is a thread-pool job, whose request object and callables are allocated. */
    @Override
    protected boolean allocationFreeSubmission() {
        return false;
    }

    @AfterEach
    void clearFaults() {
        Faults.clear();
    }

    @Test
    void shortTransfersAndEintrAreResubmittedForTheRemainder() {
        Faults.shortNth("preadv", 1, 1000);
        Faults.failNth("preadv", 2, Errno.EINTR);
        Faults.shortNth("pwritev", 1, 100);
        MemorySegment[] in = split(16384, 3);
        MemorySegment[] out = split(8192, 2);
        byte[] data = new byte[8192];
        new java.util.Random(3).nextBytes(data);
        fill(out, data, 0);
        DiskEngineContract.Results res = new DiskEngineContract.Results(2);
        engine.readv(file.buffered, 4096, in, res.slot(0));
        pollUntil(() -> res.completed == 1);
        engine.writev(file.buffered, 65536, out, false, res.slot(1));
        pollUntil(res::all);
        assertEquals(16384, res.values[0], "a short read then EINTR still reads everything");
        assertArrayEquals(Arrays.copyOfRange(file.reference, 4096, 4096 + 16384), concat(in));
        assertEquals(8192, res.values[1], "a short write is finished");
        MemorySegment[] back = split(8192, 1);
        DiskEngineContract.Results check = new DiskEngineContract.Results(1);
        engine.readv(file.buffered, 65536, back, check.slot(0));
        pollUntil(check::all);
        assertArrayEquals(data, concat(back));
    }

    /**
     * The engine's own workers follow the context's thread-pool bounds when they change
     * while it runs, as the context's pool does (they were read once, at open, before).
     */
    @Test
    void itsOwnWorkersFollowTheContextsThreadPoolBoundsLive(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        DiskIoEngineProviders engines = new DiskIoEngineProviders();
        engines.add(FACTORY, 0);
        org.aiolos.core.AiolosContext c = Aiolos.newContext(ContextOptions.defaults("threads-bounds")
                .withFdMonitors(new FdMonitorProviders()).withThreadPool(3, 3).withDiskEngines(engines));
        try (org.aiolos.testkit.TestFile f = new org.aiolos.testkit.TestFile(dir, 4096, 1)) {
            long[] result = {1};
            c.poll(false); // this thread becomes the home thread
            c.diskIo().flush(f.buffered, r -> result[0] = r);
            pollUntil(c, () -> result[0] == 0, "the flush on the threads engine");
            // Workers are started by the pool's bottom half, one after another, as in QEMU.
            pollUntil(c, () -> engineWorkers(c) == 3, "the engine's pool at the context's minimum");

            c.setThreadPoolParams(0, 1);
            pollUntil(c, () -> engineWorkers(c) <= 1, "the surplus workers leave");
            c.setThreadPoolParams(4, 4);
            pollUntil(c, () -> engineWorkers(c) == 4, "the new minimum is started");
        } finally {
            c.close();
        }
    }

    private static int engineWorkers(AioContext c) {
        String prefix = "aiolos-pool-" + c.name() + "-";
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(prefix)).count();
    }

    private static void pollUntil(org.aiolos.core.AiolosContext c, java.util.function.BooleanSupplier done, String what) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 10 s: " + what);
            }
            c.poll(false);
            Thread.onSpinWait();
        }
    }
}
