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

    /** The page size mappings are made of (x86-64 and arm64 base pages). */
    public static final long PAGE_SIZE = 4096;
    private static final int PROT_READ_WRITE = 1 | 2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;

    /**
     * Maps {@code size} bytes (rounded up to whole pages) of anonymous memory, page-aligned
     * and zeroed, unmapped when {@code arena} closes. For large buffers that come and go:
     * unlike the C heap behind {@link Arena#allocate}, whose allocator keeps freed blocks of
     * up to 32 MiB for reuse (glibc's dynamic mmap threshold), an unmapped buffer is given
     * back to the kernel at once, so the process's resident size follows what it holds.
     *
     * @throws IllegalArgumentException if {@code size} is not positive
     * @throws SyscallException if {@code mmap} fails (ENOMEM)
     */
    public static MemorySegment map(Arena arena, long size) {
        if (arena == null) {
            throw new NullPointerException("arena");
        }
        if (size <= 0 || size > Long.MAX_VALUE - PAGE_SIZE) {
            throw new IllegalArgumentException("mapping size must be in [1, " + (Long.MAX_VALUE - PAGE_SIZE)
                    + "], got " + size);
        }
        long len = (size + PAGE_SIZE - 1) & -PAGE_SIZE;
        long addr = Native.mmap(0, len, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0);
        if (addr < 0) {
            throw new SyscallException("mmap", len + " bytes, anonymous", (int) -addr);
        }
        return MemorySegment.ofAddress(addr).reinterpret(len, arena, s -> Native.munmap(addr, len));
    }

    /** True if {@code segment}'s address is a multiple of {@code alignment} (a power of two). */
    public static boolean isAligned(MemorySegment segment, long alignment) {
        if (alignment <= 0 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a positive power of two, got " + alignment);
        }
        return (segment.address() & (alignment - 1)) == 0;
    }
}
