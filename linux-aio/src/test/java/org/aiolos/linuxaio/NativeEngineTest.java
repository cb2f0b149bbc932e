package org.aiolos.linuxaio;

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
import org.aiolos.testkit.TestFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The engine suite on the Linux AIO ({@code native}) engine, plus its queue-full path. */
class NativeEngineTest extends DiskEngineContract {
    private static final DiskIoEngineFactory FACTORY = new LinuxAioEngineFactory();

    @Override
    protected DiskIoEngineFactory factory() {
        return FACTORY;
    }

    @AfterEach
    void clearFaults() {
        Faults.clear();
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
    void eagainFromAFullKernelQueueLeavesRequestsQueuedUntilTheyGoThrough() {
        // The first two io_submit calls find the kernel queue "full".
        Faults.failNth("io_submit", 1, Errno.EAGAIN);
        Faults.failNth("io_submit", 2, Errno.EAGAIN);
        int n = 40; // more than one batch of 32, so the first submission happens inside readv
        Results res = new Results(n);
        MemorySegment[][] bufs = new MemorySegment[n][];
        for (int i = 0; i < n; i++) {
            bufs[i] = new MemorySegment[] {TestFile.buffer(arena, 4096)};
            engine.readv(file.direct, i * 4096L, bufs[i], res.slot(i));
        }
        pollUntil(res::all);
        for (int i = 0; i < n; i++) {
            assertEquals(4096, res.values[i]);
            assertArrayEquals(Arrays.copyOfRange(file.reference, i * 4096, (i + 1) * 4096), concat(bufs[i]));
        }
    }
}
