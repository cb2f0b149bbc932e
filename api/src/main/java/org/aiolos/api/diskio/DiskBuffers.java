package org.aiolos.api.diskio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Buffers for disk requests that cannot be freed while a request uses them: the safe way
 * to give memory to a {@link DiskIoEngine}.
 *
 * <p>The kernel reads and writes a request's buffers by address, after the call that
 * submitted it has returned, so the checks FFM makes on every Java access do not apply
 * to it. An engine rejects a buffer whose arena is already closed, but it cannot stop an
 * arena from being closed while a request is in flight: Java offers no public way to hold
 * an arena's scope open across an asynchronous system call. Closing an {@link Arena} whose
 * memory is in flight is therefore like {@code free()} on a buffer QEMU has handed to
 * {@code io_submit}: a read then writes into memory that may already belong to something
 * else (which can corrupt the native heap and abort the JVM), a write sends whatever the
 * memory holds by then.
 *
 * <p>The buffers allocated here belong to an automatic arena ({@link Arena#ofAuto()}): the
 * memory is freed by the garbage collector once nothing references the segment or a slice
 * of it. Every engine keeps a reference to a request's segments until its completion has
 * run, so the memory outlives the request whatever the caller does with its own
 * references: the reference count is the collector's reachability, and there is no
 * {@code close()} to call too early. Allocation costs what a native allocation costs, so
 * allocate once and reuse, as QEMU's block layer does with its bounce buffers.
 */
public final class DiskBuffers {
    private DiskBuffers() {
    }

    /**
     * A zeroed native buffer of {@code size} bytes for requests on {@code file}: aligned to
     * the file's memory alignment (and its size rounded up to the offset alignment) when
     * the file is {@link DiskFile#direct() O_DIRECT}, to 8 bytes otherwise. Freed by the
     * garbage collector once neither the caller nor a request in flight references it.
     *
     * @throws IllegalArgumentException if {@code size} is not positive
     */
    public static MemorySegment allocate(DiskFile file, long size) {
        Objects.requireNonNull(file, "file");
        if (size <= 0) {
            throw new IllegalArgumentException("buffer size must be > 0, got " + size);
        }
        if (!file.direct()) {
            return Arena.ofAuto().allocate(size, 8);
        }
        long unit = file.offsetAlignment();
        long rounded = (size + unit - 1) / unit * unit;
        if (rounded < size) {
            throw new IllegalArgumentException("buffer size " + size + " overflows when rounded up to the "
                    + unit + "-byte O_DIRECT length alignment");
        }
        return Arena.ofAuto().allocate(rounded, file.memoryAlignment());
    }
}
