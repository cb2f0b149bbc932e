package org.aiolos.core.backend;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import org.aiolos.api.AioContext;
import org.aiolos.api.diskio.DiskFile;
import org.aiolos.api.diskio.DiskIoEngine;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.core.DiskIoEngineProviders;
import org.aiolos.linux.Errno;
import org.aiolos.diskio.DiskRequest;

/**
 * A disk-I/O engine as its users see it: the context's own ({@link AioContext#diskIo()},
 * QEMU {@code aio_setup_linux_aio}/{@code aio_setup_io_uring}) or one an NBD export names,
 * opened from the chosen provider at the first request and swapped by the
 * {@link BackendSlot} life cycle: requests in flight finish on the retired engine, new ones
 * go to the new one, and while no engine provider is available they wait
 * ({@link WorkSlot}). A request that waited too long completes with {@code -ENODEV}; one
 * held when the owner closes completes with {@code -ECANCELED}.
 *
 * <p>Home thread only, like the engines (submissions are checked).
 */
public final class EngineSlot extends WorkSlot<DiskIoEngineFactory, DiskIoEngine, EngineSlot.HeldIo>
        implements DiskIoEngine {

    /** A request waiting for an engine. */
    record HeldIo(DiskRequest.Kind kind, DiskFile file, long offset, MemorySegment[] buffers, boolean fua,
                  IoCompletion completion) {
    }

    private final AioContext ctx;
    private final DiskIoEngineProviders engines;
    private final Runnable onClose;

    private static final long NO_PARAMS = -1L;
    private static final java.lang.invoke.VarHandle PENDING_PARAMS;

    static {
        try {
            PENDING_PARAMS = java.lang.invoke.MethodHandles.lookup().findVarHandle(EngineSlot.class, "pendingParams",
                    long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Thread-pool bounds (min in the high half) not yet passed to the engines, or NO_PARAMS. */
    @SuppressWarnings("unused") // through PENDING_PARAMS
    private volatile long pendingParams = NO_PARAMS;

    /** Who opened this slot with {@code openDiskIo}; null for the context's own. */
    private final String user;

    /**
     * @param owner who uses it, for messages ({@code AioContext 'io1'}, {@code export 'd1' on ...})
     * @param user who opened it with {@code AioContext.openDiskIo} ({@code export 'd1'}), or null
     *     for the context's own engine
     * @param onClose run when {@link #close} disposes it (an owner's slot), or null for the
     *     context's own, which {@link #close} only empties
     */
    public EngineSlot(SlotHost host, String owner, String user, String configured, DiskIoEngineProviders providers,
                      Runnable onClose) {
        super(host, "aio-engine", owner, providers, configured);
        this.user = user;
        this.ctx = host.context();
        this.engines = providers;
        this.onClose = onClose;
    }

    /** The engine providers this slot chooses from. */
    public DiskIoEngineProviders providers() {
        return engines;
    }

    private DiskIoEngine engine() {
        if (!ctx.inHomeThread()) {
            Thread home = host.homeThread();
            throw new IllegalStateException("disk I/O of " + owner() + " must be submitted from its home thread"
                    + (home == null ? ", and it has none yet: the first thread that polls the context becomes it"
                    : " '" + home.getName() + "'") + "; not from '" + Thread.currentThread().getName() + "'");
        }
        return backendForWork();
    }

    /**
     * The engine requests go to: the one open, or while none is (before the first request)
     * the one the next request will open; {@code none} when no provider is available.
     */
    @Override
    public String name() {
        String n = servingName();
        if (n != null) {
            return n;
        }
        Choice<DiskIoEngineFactory> c = choose();
        return c.provider() == null ? "none" : c.provider().name();
    }

    @Override
    public void readv(DiskFile file, long offset, MemorySegment[] buffers, IoCompletion completion) {
        DiskIoEngine e = engine();
        if (e != null) {
            e.readv(file, offset, buffers, completion);
            return;
        }
        DiskRequest.validate(DiskRequest.Kind.READ, file, offset, buffers);
        hold(new HeldIo(DiskRequest.Kind.READ, file, offset, buffers, false,
                Objects.requireNonNull(completion, "completion")));
    }

    @Override
    public void writev(DiskFile file, long offset, MemorySegment[] buffers, boolean fua, IoCompletion completion) {
        DiskIoEngine e = engine();
        if (e != null) {
            e.writev(file, offset, buffers, fua, completion);
            return;
        }
        DiskRequest.validate(DiskRequest.Kind.WRITE, file, offset, buffers);
        hold(new HeldIo(DiskRequest.Kind.WRITE, file, offset, buffers, fua,
                Objects.requireNonNull(completion, "completion")));
    }

    @Override
    public void flush(DiskFile file, IoCompletion completion) {
        DiskIoEngine e = engine();
        if (e != null) {
            e.flush(file, completion);
            return;
        }
        Objects.requireNonNull(file, "file");
        hold(new HeldIo(DiskRequest.Kind.FLUSH, file, 0, null, false,
                Objects.requireNonNull(completion, "completion")));
    }

    @Override
    protected void submit(DiskIoEngine e, HeldIo r) {
        switch (r.kind()) {
            case READ -> e.readv(r.file(), r.offset(), r.buffers(), r.completion());
            case WRITE -> e.writev(r.file(), r.offset(), r.buffers(), r.fua(), r.completion());
            case FLUSH -> e.flush(r.file(), r.completion());
        }
    }

    @Override
    protected void fail(HeldIo r, String why, boolean closing) {
        // Run in the home thread (the give-up timer, or the owner's close), never inside a submission.
        r.completion().complete(closing ? -Errno.ECANCELED : -Errno.ENODEV);
    }

    @Override
    protected int inFlight(DiskIoEngine e) {
        return e.inFlight();
    }

    @Override
    protected void closeBackend(DiskIoEngine e) {
        e.close();
    }

    /** Requests outstanding on the current engine, on those still draining, and waiting for one. */
    @Override
    public int inFlight() {
        Opened<DiskIoEngineFactory, DiskIoEngine> o = current;
        return (o == null ? 0 : o.backend().inFlight()) + inFlightRetiring() + waiting();
    }

    /**
     * The context's thread-pool bounds changed (any thread): every open engine hears of it
     * at the next safe point, engines being home-thread objects. A later change overwrites
     * one not yet passed on.
     */
    public void threadPoolParamsChanged(int min, int max) {
        PENDING_PARAMS.setRelease(this, (long) min << 32 | max); // read by getAndSet at the safe point
        host.attention();
    }

    @Override
    protected void safePointWork() {
        long p = (long) PENDING_PARAMS.getAndSet(this, NO_PARAMS);
        if (p != NO_PARAMS) {
            int min = (int) (p >>> 32);
            int max = (int) p;
            forEachOpen(e -> e.threadPoolParamsChanged(min, max));
        }
    }

    /** The name of the engine taking new requests, or null when none is open yet. */
    public String currentName() {
        return servingName();
    }

    /**
     * An owner's slot ({@link AioContext#openDiskIo}): closes every engine, letting their
     * requests complete first (their completions run before this returns), and disposes the
     * slot. The context's own slot is refused: the context owns it, closes it with itself,
     * and swaps its engine with {@code useDiskEngine}; closing it here would either stop
     * requests the context still takes or reopen at the next one, neither what a close says.
     *
     * @throws UnsupportedOperationException for the context's own slot
     */
    @Override
    public void close() {
        if (onClose == null) {
            throw new UnsupportedOperationException("the disk-I/O engine of " + owner()
                    + " belongs to the context and closes with it; useDiskEngine swaps it");
        }
        closeBackends();
        dispose();
        onClose.run();
    }

    @Override
    public String toString() {
        return "disk I/O of " + owner() + ": " + (servingName() == null ? "no engine open" : servingName())
                + ", " + draining() + " draining, " + waiting() + " waiting";
    }

    @Override
    protected String user() {
        return user;
    }
}
