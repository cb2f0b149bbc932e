package org.aiolos.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.aiolos.linux.AlignedBuffers;
import org.aiolos.nbd.internal.BufferPool;
import org.junit.jupiter.api.Test;

class BufferPoolTest {
    @Test
    void classesAlignmentReuseAndCap() {
        BufferPool pool = new BufferPool(1 << 20);
        long[] sizes = {1, 4096, 4097, 65536, 65537, 1 << 20, (32 << 20) + 8192};
        for (long size : sizes) {
            BufferPool.Buffer b = pool.get(size);
            assertTrue(b.segment.byteSize() >= size, size + " -> " + b.segment.byteSize());
            assertTrue(AlignedBuffers.isAligned(b.segment, BufferPool.ALIGNMENT));
            pool.put(b);
        }
        BufferPool.Buffer a = pool.get(5000);
        assertEquals(8192, a.segment.byteSize());
        pool.put(a);
        assertSame(a, pool.get(6000), "same class: reused");
        pool.put(a);
        BufferPool.Buffer big = pool.get(3 << 20);
        pool.put(big); // beyond the 1 MiB cache: freed
        assertTrue(pool.get(3 << 20) != big);
        assertEquals(1, pool.liveBuffers());
        pool.close();
        assertThrows(IllegalStateException.class, () -> pool.get(1));
    }
}
