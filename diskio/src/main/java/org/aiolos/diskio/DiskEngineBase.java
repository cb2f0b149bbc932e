package org.aiolos.diskio;

import java.lang.foreign.MemorySegment;
import org.aiolos.api.AioContext;
import org.aiolos.api.diskio.DiskFile;
import org.aiolos.api.diskio.DiskIoEngine;

/**
 * The front end the three engines share: {@code readv}, {@code writev} and {@code flush}
 * check their arguments, that the engine is open and that the caller is the home thread,
 * and take a request from the pool, so that every engine rejects the same bad call with
 * the same message ({@code "<engine> engine of '<context>' ..."}). What happens to an
 * admitted request is each engine's own business: {@link #start}.
 *
 * <p>Home thread only, like the engines.
 */
public abstract class DiskEngineBase implements DiskIoEngine {
    protected final AioContext ctx;
    /** The engine's queue depth: requests outstanding at most. */
    protected final DiskRequestPool requests;
    private final int capacity;
    private boolean closed;

    protected DiskEngineBase(AioContext ctx, int capacity) {
        this.ctx = ctx;
        this.capacity = capacity;
        this.requests = new DiskRequestPool(capacity);
    }

    @Override
    public final void readv(DiskFile file, long offset, MemorySegment[] buffers, IoCompletion completion) {
        checkUsable(); // first: validation asks whether the home thread may touch each buffer
        DiskRequest.validate(DiskRequest.Kind.READ, file, offset, buffers);
        admit(DiskRequest.Kind.READ, file, offset, buffers, false, completion);
    }

    @Override
    public final void writev(DiskFile file, long offset, MemorySegment[] buffers, boolean fua,
                             IoCompletion completion) {
        checkUsable();
        DiskRequest.validate(DiskRequest.Kind.WRITE, file, offset, buffers);
        admit(DiskRequest.Kind.WRITE, file, offset, buffers, fua, completion);
    }

    @Override
    public final void flush(DiskFile file, IoCompletion completion) {
        if (file == null) {
            throw new NullPointerException("file");
        }
        admit(DiskRequest.Kind.FLUSH, file, 0, null, false, completion);
    }

    private void admit(DiskRequest.Kind kind, DiskFile file, long offset, MemorySegment[] buffers, boolean fua,
                       IoCompletion completion) {
        if (completion == null) {
            throw new NullPointerException("completion");
        }
        checkUsable();
        DiskRequest r = requests.acquire(kind, file, offset, buffers, fua, completion);
        if (r == null) {
            throw new IllegalStateException(name() + " engine of '" + ctx.name() + "': " + capacity
                    + " requests already outstanding; wait for completions");
        }
        start(r);
    }

    /** Open, and called from the home thread; else an exception saying which it is not. */
    protected final void checkUsable() {
        if (closed) {
            throw new IllegalStateException(name() + " engine of '" + ctx.name() + "' is closed");
        }
        if (!ctx.inHomeThread()) {
            throw new IllegalStateException(name() + " engine of '" + ctx.name()
                    + "': submit from the context's home thread, not '" + Thread.currentThread().getName() + "'");
        }
    }

    /**
     * Takes an admitted request on its way (to the kernel or a worker). If it throws, the
     * engine must have released {@code r} first.
     */
    protected abstract void start(DiskRequest r);

    protected final boolean isClosed() {
        return closed;
    }

    /** From close(): no request is admitted after this. */
    protected final void markClosed() {
        closed = true;
    }

    @Override
    public String toString() {
        return name() + " engine of '" + ctx.name() + "' (" + requests.inUse() + " in flight)";
    }
}
