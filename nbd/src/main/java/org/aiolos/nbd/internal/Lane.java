package org.aiolos.nbd.internal;

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

    Lane(AiolosContext ctx, long poolCacheBytes) {
        this.ctx = ctx;
        this.pool = new BufferPool(poolCacheBytes);
    }

    String name() {
        return ctx.name();
    }
}
