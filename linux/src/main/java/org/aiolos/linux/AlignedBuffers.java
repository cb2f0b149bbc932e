package org.aiolos.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Aligned native buffers, for {@code O_DIRECT} I/O where the kernel demands that buffer
 * addresses (and lengths) be multiples of the device's alignment (see
 * {@link Files#alignment(int)}).
 */
public final class AlignedBuffers {
    private AlignedBuffers() {
    }

    /**
     * Allocates {@code size} bytes aligned to {@code alignment} from {@code arena} (freed
     * when the arena closes). The memory is zeroed.
     *
     * @throws IllegalArgumentException if {@code size} is negative or {@code alignment} is
     *                                  not a positive power of two
     */
    public static MemorySegment allocate(Arena arena, long size, long alignment) {
        if (arena == null) {
            throw new NullPointerException("arena");
        }
        if (size < 0) {
            throw new IllegalArgumentException("buffer size must be >= 0, got " + size);
        }
        if (alignment <= 0 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a positive power of two, got " + alignment);
        }
        return arena.allocate(size, alignment);
    }

    /** True if {@code segment}'s address is a multiple of {@code alignment} (a power of two). */
    public static boolean isAligned(MemorySegment segment, long alignment) {
        if (alignment <= 0 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a positive power of two, got " + alignment);
        }
        return (segment.address() & (alignment - 1)) == 0;
    }
}
