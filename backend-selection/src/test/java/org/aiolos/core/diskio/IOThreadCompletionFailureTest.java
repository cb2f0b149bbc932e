package org.aiolos.core.diskio;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.concurrent.atomic.AtomicLong;
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
import org.aiolos.testkit.TestFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A completion that throws on an IOThread with the default set-up (the io_uring engine on
 * the io_uring monitor's ring, whose dispatch runs the engine's completions): reported to
 * the context's failure handler, and the loop carries on.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IOThreadCompletionFailureTest {
    @TempDir
    Path dir;

    @Test
    void aThrowingCompletionIsReportedAndTheIOThreadKeepsServing() throws Exception {
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        FdMonitorProviders monitors = new FdMonitorProviders();
        monitors.add(new IoUringFdMonitorFactory(), 0);
        DiskIoEngineProviders engines = new DiskIoEngineProviders();
        engines.add(new IoUringEngineFactory(), 0);
        IOThread t = Aiolos.newIOThread(ContextOptions.ioThreadDefaults("io0").withFdMonitors(monitors)
                .withFdMonitor(FdMonitorFactory.IO_URING).withDiskEngines(engines)
                .withDiskEngine(DiskIoEngineFactory.IO_URING)
                .withFailureHandler((c, source, failure) -> failures.add(String.valueOf(failure))));
        try (TestFile file = new TestFile(dir, 1 << 20, 5); Arena arena = Arena.ofShared()) {
            t.start();
            AioContext ctx = t.context();
            CountDownLatch first = new CountDownLatch(2);
            AtomicLong okResult = new AtomicLong(Long.MIN_VALUE);
            ctx.scheduleOneshot("submit", () -> {
                ctx.diskIo().readv(file.buffered, 0, new MemorySegment[] {arena.allocate(100)}, r -> {
                    first.countDown();
                    throw new RuntimeException("boom");
                });
                ctx.diskIo().readv(file.buffered, 100, new MemorySegment[] {arena.allocate(100)}, r -> {
                    okResult.set(r);
                    first.countDown();
                });
            });
            first.await();
            // A later request still completes: the loop did not die.
            CountDownLatch later = new CountDownLatch(1);
            AtomicLong laterResult = new AtomicLong(Long.MIN_VALUE);
            ctx.scheduleOneshot("submit later", () -> ctx.diskIo().readv(file.buffered, 200,
                    new MemorySegment[] {arena.allocate(100)}, r -> {
                        laterResult.set(r);
                        later.countDown();
                    }));
            later.await();
            assertTrue(t.isRunning(), "the IOThread runs");
            assertEquals(100, okResult.get());
            assertEquals(100, laterResult.get());
            assertEquals(List.of("java.lang.RuntimeException: boom"), List.copyOf(failures));
        } finally {
            t.close();
        }
    }
}
