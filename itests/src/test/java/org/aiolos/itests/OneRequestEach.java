package org.aiolos.itests;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.AioContext;
import org.aiolos.api.diskio.DiskFile;

/** One thread-pool job and one disk write on a context, waited for: opens its pool and engine. */
final class OneRequestEach implements AutoCloseable {
    private final AioContext ctx;
    private final Path path;
    private final int fd;
    private final DiskFile file;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment[] block = {arena.allocate(4096, 4096)};

    OneRequestEach(AioContext ctx) throws Exception {
        this.ctx = ctx;
        path = Files.createTempFile("aiolos-leak-", ".img");
        fd = org.aiolos.linux.Files.open(path.toString(),
                org.aiolos.linux.Files.O_RDWR | org.aiolos.linux.Files.O_CLOEXEC, 0);
        file = DiskFile.buffered(fd);
    }

    void run() throws Exception {
        CompletableFuture<Integer> pool = new CompletableFuture<>();
        CompletableFuture<Long> disk = new CompletableFuture<>();
        ctx.scheduleOneshot("leak-io", () -> {
            ctx.threadPool().submit(() -> 7, (Integer r, Throwable f) -> {
                if (f != null) {
                    pool.completeExceptionally(f);
                } else {
                    pool.complete(r);
                }
            });
            ctx.diskIo().writev(file, 0, block, false, disk::complete);
        });
        if (pool.get(5, TimeUnit.SECONDS) != 7) {
            throw new AssertionError("pool job returned the wrong value");
        }
        long written = disk.get(5, TimeUnit.SECONDS);
        if (written != 4096) {
            throw new AssertionError("disk write returned " + written);
        }
    }

    @Override
    public void close() throws Exception {
        org.aiolos.linux.Fds.close(fd);
        Files.deleteIfExists(path);
        arena.close();
    }
}
