package org.aiolos.api.diskio;

/**
 * An open file as a disk-I/O engine sees it: its descriptor and, when it was opened with
 * {@code O_DIRECT}, the alignment the kernel demands. Engines check every request against
 * it before submission, so a misaligned buffer, offset or length fails at once with a
 * message instead of an {@code EINVAL} from the kernel later. Build one with
 * {@code org.aiolos.linux.Files.diskFile(fd)}, which asks the kernel for both facts.
 *
 * @param fd the descriptor; the caller keeps it open while requests on it are in flight
 * @param direct whether the descriptor has {@code O_DIRECT}
 * @param memoryAlignment buffer addresses must be multiples of this (1 without O_DIRECT)
 * @param offsetAlignment file offsets and buffer lengths must be multiples of this
 *     (1 without O_DIRECT)
 */
public record DiskFile(int fd, boolean direct, long memoryAlignment, long offsetAlignment) {

    public DiskFile {
        if (fd < 0) {
            throw new IllegalArgumentException("file descriptor must be >= 0, got " + fd);
        }
        if (memoryAlignment <= 0 || Long.bitCount(memoryAlignment) != 1) {
            throw new IllegalArgumentException("memory alignment must be a power of two, got " + memoryAlignment);
        }
        if (offsetAlignment <= 0 || Long.bitCount(offsetAlignment) != 1) {
            throw new IllegalArgumentException("offset alignment must be a power of two, got " + offsetAlignment);
        }
    }

    /** A descriptor without {@code O_DIRECT}: any buffer, offset and length will do. */
    public static DiskFile buffered(int fd) {
        return new DiskFile(fd, false, 1, 1);
    }
}
