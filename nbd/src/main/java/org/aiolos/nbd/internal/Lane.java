package org.aiolos.nbd.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import org.aiolos.core.AiolosContext;

/**
 * One context that serves a server's connections, with what its connections share: a
 * buffer pool of its own (pools are single-threaded, and a connection's buffers are taken
 * and returned in its context's home thread) and the count the placement balances. A
 * server has one lane per serving context; the listening context is always one of them.
 */
final class Lane {
    final AiolosContext ctx;
    final BufferPool pool;
    /** Connections placed here and not finished; the server's home thread only. */
    int connections;
    /** Connections placed here over the server's life; the server's home thread only. */
    long placed;
    /** Set when the lane is withdrawn: completed when its last connection has finished. */
    CompletableFuture<Void> drained;
    /** What TLS sessions hand their ciphertext to write(2) through; the home thread only. */
    private MemorySegment tlsWriteStage;

    Lane(AiolosContext ctx, long poolCacheBytes) {
        this.ctx = ctx;
        this.pool = new BufferPool(poolCacheBytes);
    }

    /**
     * Native memory of at least {@code size} bytes through which this lane's TLS sessions
     * pass their ciphertext to the socket ({@link TlsStream} keeps its own in heap buffers).
     * One per lane is enough: a session copies into it and writes without yielding, so no
     * two sessions ever hold it at once. Home thread only; freed with the last session that
     * holds it.
     */
    MemorySegment tlsWriteStage(long size) {
        if (tlsWriteStage == null || tlsWriteStage.byteSize() < size) {
            tlsWriteStage = Arena.ofAuto().allocate(size, 8);
        }
        return tlsWriteStage;
    }

    String name() {
        return ctx.name();
    }
}
