package org.aiolos.testkit;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import org.aiolos.api.diskio.DiskFile;
import org.aiolos.linux.AlignedBuffers;
import org.aiolos.linux.Fds;
import org.aiolos.linux.Files;

/** A scratch file opened twice (buffered and O_DIRECT) with its reference copy in memory. */
public final class TestFile implements AutoCloseable {
    public static final long ALIGN = 4096;
    public final Path path;
    public final int bufferedFd;
    public final int directFd;
    public final DiskFile buffered;
    public final DiskFile direct;
    /** What the file should hold. */
    public final byte[] reference;

    public TestFile(Path dir, int size, long seed) throws IOException {
        this.path = dir.resolve("engine-" + seed + ".img");
        reference = new byte[size];
        new java.util.Random(seed).nextBytes(reference);
        java.nio.file.Files.write(path, reference);
        bufferedFd = Files.open(path.toString(), Files.O_RDWR, 0);
        directFd = Files.open(path.toString(), Files.O_RDWR | Files.O_DIRECT, 0);
        buffered = Files.diskFile(bufferedFd);
        direct = Files.diskFile(directFd);
    }

    /** A native buffer of {@code size} bytes aligned for O_DIRECT. */
    public static MemorySegment buffer(Arena arena, long size) {
        return AlignedBuffers.allocate(arena, size, ALIGN);
    }

    @Override
    public void close() throws IOException {
        Fds.close(bufferedFd);
        Fds.close(directFd);
        java.nio.file.Files.deleteIfExists(path);
    }
}
