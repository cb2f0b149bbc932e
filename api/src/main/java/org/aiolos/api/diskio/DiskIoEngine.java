package org.aiolos.api.diskio;

import java.lang.foreign.MemorySegment;

/**
 * Vectored reads and writes at an offset, and data flushes, on open files (QEMU
 * {@code aio=threads|native|io_uring}); one engine per {@link org.aiolos.api.AioContext},
 * reached with {@link org.aiolos.api.AioContext#diskIo()}.
 *
 * <p><b>Threads.</b> Requests are submitted from the context's home thread, and every
 * completion runs there, never inside the submitting call: a request always completes
 * from a later turn of the loop. The coroutine variants ({@link #coReadv},
 * {@link #coWritev}, {@link #coFlush}) must run in a coroutine entered in the home
 * thread; they yield until the request completes and return its result.
 *
 * <p><b>Buffers.</b> Native memory segments only, alive and unmodified until the
 * completion runs, at most {@link #MAX_BUFFERS} of them, none empty. A heap segment, a
 * segment whose arena is already closed, and for a read a read-only segment are rejected
 * with an {@link IllegalArgumentException} naming the buffer; nothing is submitted. The
 * engine keeps its own reference to every segment until the completion has run (the
 * caller may reuse its array at once), but it cannot keep an arena from being
 * <em>closed</em> while the kernel uses its memory: closing it then is a use after free
 * that can corrupt the native heap and abort the JVM. Buffers from
 * {@link DiskBuffers#allocate} cannot be freed while a request holds them. For a
 * {@link DiskFile#direct() O_DIRECT} file every buffer address must be a multiple of the
 * memory alignment, and the offset and every buffer length a multiple of the offset
 * alignment; a misaligned request is rejected before submission with an
 * {@link IllegalArgumentException} that says which value and which alignment.
 *
 * <p><b>Results (identical on every engine).</b>
 * <ul>
 *   <li>a read or write completes with the number of bytes transferred, or a negative
 *       errno;</li>
 *   <li>a short transfer that made progress is resubmitted for the remainder, so a
 *       request never completes short while the kernel can still make progress
 *       (QEMU's io_uring engine, {@code luring_resubmit_short_read} in
 *       {@code block/io_uring.c}; its Linux AIO engine does not,
 *       {@code qemu_laio_process_completion} in {@code block/linux-aio.c});</li>
 *   <li>a read that reaches end of file zero-fills the rest of the buffers and completes
 *       with the bytes actually read, which is then less than the requested length
 *       (QEMU's Linux AIO engine reports that count too; its io_uring engine reports 0 and
 *       hides where the file ended). With {@code O_DIRECT}, a file whose size is not a
 *       multiple of the offset alignment ends inside a block: the read stops there;</li>
 *   <li>a write that the kernel accepts no byte of completes with {@code -ENOSPC}, as in
 *       both QEMU engines; so does a short {@code O_DIRECT} write whose remainder would
 *       start misaligned;</li>
 *   <li>{@code EINTR} and {@code EAGAIN} from the kernel are retried, never reported;</li>
 *   <li>a flush completes with 0 or a negative errno.</li>
 * </ul>
 * The errno of a request the kernel refuses outright is the kernel interface's: a read
 * of a directory is {@code -EISDIR} from {@code preadv} and io_uring but {@code -EINVAL}
 * from Linux AIO, and a descriptor that is not a file (a pipe) is not a disk: what an
 * engine does with it is undefined.
 *
 * <p><b>Batching.</b> Requests are handed to the kernel in batches of at most the
 * context's {@link org.aiolos.api.AioContext#aioMaxBatch() aio-max-batch} ({@value
 * #DEFAULT_MAX_BATCH} when that is 0); a batch that is not full is submitted at the end
 * of the current loop iteration.
 */
public interface DiskIoEngine extends AutoCloseable {

    /** The batch size when the context's aio-max-batch is 0 (QEMU linux-aio's DEFAULT_MAX_BATCH). */
    int DEFAULT_MAX_BATCH = 32;

    /** The most buffers one request may carry (the kernel's UIO_MAXIOV). */
    int MAX_BUFFERS = 1024;

    /** {@code threads}, {@code native} or {@code io_uring}. */
    String name();

    /**
     * Reads into {@code buffers}, in order, from {@code offset} of {@code file}. The
     * completion gets the bytes read (less than asked only at end of file, the rest
     * zero-filled) or a negative errno.
     *
     * @throws IllegalArgumentException for a bad or misaligned request (nothing is submitted)
     * @throws IllegalStateException off the home thread, or when the engine is closed
     */
    void readv(DiskFile file, long offset, MemorySegment[] buffers, IoCompletion completion);

    /**
     * Writes {@code buffers}, in order, at {@code offset} of {@code file}; with
     * {@code fua} the data is durable when it completes ({@code RWF_DSYNC}). The
     * completion gets the bytes written (all of them) or a negative errno.
     *
     * @throws IllegalArgumentException for a bad or misaligned request (nothing is submitted)
     * @throws IllegalStateException off the home thread, or when the engine is closed
     */
    void writev(DiskFile file, long offset, MemorySegment[] buffers, boolean fua, IoCompletion completion);

    /**
     * Flushes the file's data ({@code fdatasync}); the completion gets 0 or a negative errno.
     *
     * @throws IllegalStateException off the home thread, or when the engine is closed
     */
    void flush(DiskFile file, IoCompletion completion);

    /**
     * {@link #readv} from a coroutine: yields until the read completes (QEMU
     * {@code laio_co_submit}/{@code luring_co_submit}).
     *
     * @return the bytes read, or a negative errno
     * @throws IllegalStateException outside a coroutine entered in the home thread
     * @throws org.aiolos.api.coroutine.CoroutinePinnedException if the coroutine cannot
     *     yield; checked before anything is submitted, so nothing was
     */
    default long coReadv(DiskFile file, long offset, MemorySegment[] buffers) {
        CoWait w = CoWait.begin();
        readv(file, offset, buffers, w);
        return w.await();
    }

    /** {@link #writev} from a coroutine; returns the bytes written or a negative errno. */
    default long coWritev(DiskFile file, long offset, MemorySegment[] buffers, boolean fua) {
        CoWait w = CoWait.begin();
        writev(file, offset, buffers, fua, w);
        return w.await();
    }

    /** {@link #flush} from a coroutine; returns 0 or a negative errno. */
    default long coFlush(DiskFile file) {
        CoWait w = CoWait.begin();
        flush(file, w);
        return w.await();
    }

    /** Requests accepted whose completion has not run yet. */
    int inFlight();

    /**
     * The context's {@code thread-pool-min}/{@code thread-pool-max} changed; called in the
     * home thread. An engine that runs on workers of its own follows them (QEMU's
     * {@code aio=threads} shares the context's pool, which follows them in
     * {@code thread_pool_update_params}, {@code util/thread-pool.c}); others ignore it.
     */
    default void threadPoolParamsChanged(int min, int max) {
    }

    /**
     * Closes the engine from the home thread. Requests still queued are submitted and
     * every request in flight is waited for; their completions run before this returns, so
     * none is lost. Requests submitted afterwards fail with IllegalStateException.
     * Idempotent. A context's own engine ({@code AioContext.diskIo()}) closes only with
     * its context: there this throws {@link UnsupportedOperationException}.
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
