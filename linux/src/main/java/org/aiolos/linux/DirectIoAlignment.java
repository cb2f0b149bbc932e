package org.aiolos.linux;

/**
 * The alignment {@code O_DIRECT} I/O on a descriptor needs: buffer addresses (and iovec
 * lengths) must be multiples of {@code memoryAlignment}; file offsets and lengths multiples
 * of {@code offsetAlignment}. {@code source} says where the numbers came from:
 * {@code "statx"} (STATX_DIOALIGN, kernel ≥ 6.1 on supporting filesystems),
 * {@code "BLKSSZGET"} (the logical block size of a block device), or {@code "fallback"}
 * (4096 for both: safe for every common device, possibly stricter than needed).
 */
public record DirectIoAlignment(long memoryAlignment, long offsetAlignment, String source) {
    public DirectIoAlignment {
        if (memoryAlignment <= 0 || Long.bitCount(memoryAlignment) != 1) {
            throw new IllegalArgumentException("memory alignment must be a power of two, got " + memoryAlignment);
        }
        if (offsetAlignment <= 0 || Long.bitCount(offsetAlignment) != 1) {
            throw new IllegalArgumentException("offset alignment must be a power of two, got " + offsetAlignment);
        }
    }
}
