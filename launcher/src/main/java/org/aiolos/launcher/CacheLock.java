package org.aiolos.launcher;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One framework per cache: Felix keeps no lock of its own, and a second launcher on the
 * same cache (a {@code --run} script pointed at a running server's folder) would start a
 * second framework over the same bundle and Config Admin store, and its exports would
 * fight the first one's for ports and sockets. The lock is a file beside the cache, not in
 * it, so {@code --clean} can delete the cache while holding it; the kernel drops it when
 * the JVM ends, however it ends.
 */
final class CacheLock {
    /** Held for the JVM's life. */
    private static FileLock held;

    private CacheLock() {
    }

    /** The lock file of {@code cache}. */
    static Path file(Path cache) {
        return cache.resolveSibling(cache.getFileName() + ".lock");
    }

    /**
     * Takes the lock of {@code cache}.
     *
     * @return false when another process holds it
     * @throws IOException when the lock file cannot be made
     */
    static synchronized boolean take(Path cache) throws IOException {
        if (held != null) {
            return true;
        }
        Path f = file(cache);
        Files.createDirectories(f.getParent());
        FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = ch.tryLock();
        if (lock == null) {
            ch.close();
            return false;
        }
        held = lock;
        return true;
    }
}
