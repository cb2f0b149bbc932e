package org.aiolos.api.diskio;

import java.lang.foreign.MemorySegment;

/**
 * Vectored reads and writes at an offset and data flushes on open files, completed in
 * the home thread of the engine's context. Buffers are native memory; for files opened
 * with {@code O_DIRECT} they, the offset and the length must be aligned as the file
 * requires, and misalignment is rejected before submission with a message saying which
 * and the alignment needed.
 */
public interface DiskIoEngine extends AutoCloseable {

    String name();

    /**
     * Reads into {@code buffers} from {@code offset}. The completion gets the byte count
     * (the buffers are zero-filled past end of file) or a negative errno.
     */
    void readv(int fd, long offset, MemorySegment[] buffers, IoCompletion completion);

    /**
     * Writes {@code buffers} at {@code offset}; with {@code fua} the data is durable when
     * it completes. The completion gets the byte count or a negative errno.
     */
    void writev(int fd, long offset, MemorySegment[] buffers, boolean fua, IoCompletion completion);

    /** Flushes the file's data (fdatasync); the completion gets 0 or a negative errno. */
    void flush(int fd, IoCompletion completion);

    /** Requests submitted whose completion has not run. */
    int inFlight();

    /**
     * Closes the engine after every request in flight has completed; requests submitted
     * afterwards fail.
     */
    @Override
    void close();

    /** A request's completion, run in the home thread. */
    @FunctionalInterface
    interface IoCompletion {
        /** @param result bytes transferred (0 for flush), or a negative errno */
        void complete(long result);
    }
}
