package org.aiolos.diskio.iouring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.aiolos.api.AioContext;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.core.Aiolos;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.DiskIoEngineProviders;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.testkit.ContextSpec;
import org.aiolos.testkit.DiskEngineContract;
import org.junit.jupiter.api.Test;

/** The engine suite on the io_uring engine (context on the built-in poll monitor), plus SQ-full and CQ overflow. */
class IoUringEngineTest extends DiskEngineContract {
    static final DiskIoEngineFactory FACTORY = new IoUringEngineFactory();

    @Override
    protected DiskIoEngineFactory factory() {
        return FACTORY;
    }

    @Override
    protected AioContext newContext(ContextSpec spec) {
        ContextOptions options = ContextOptions.defaults(spec.name()).withFdMonitors(new FdMonitorProviders())
                .withFailureHandler((c, source, failure) -> spec.failures().record(source, failure));
        if (spec.diskEngine() != null) {
            DiskIoEngineProviders engines = new DiskIoEngineProviders();
            engines.add(spec.diskEngine(), 0);
            options = options.withDiskEngines(engines);
        }
        return Aiolos.newContext(options);
    }

    @Test
    void aFullSqAndAnOverflowingCqLoseNoCompletion() {
        // 1,024 requests in one batch: 8 times the 128-entry SQ, 4 times the 256-entry CQ.
        ctx.setAioParams(1024);
        int n = 1024;
        Results res = new Results(n);
        MemorySegment[][] bufs = new MemorySegment[n][];
        for (int i = 0; i < n; i++) {
            bufs[i] = new MemorySegment[] {arena.allocate(512)};
            engine.readv(file.buffered, i * 512L, bufs[i], res.slot(i));
        }
        pollUntil(res::all);
        for (int i = 0; i < n; i++) {
            assertEquals(512, res.values[i]);
            assertArrayEquals(Arrays.copyOfRange(file.reference, i * 512, (i + 1) * 512), concat(bufs[i]));
        }
        IoUringEngine e = (IoUringEngine) engine;
        assertTrue(e.sqFullSubmits() > 0, "the SQ filled up");
        assertTrue(e.overflowFlushes() > 0, "the CQ overflowed and was flushed");
    }
}
