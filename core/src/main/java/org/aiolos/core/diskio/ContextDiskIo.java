package org.aiolos.core.diskio;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.api.diskio.DiskFile;
import org.aiolos.api.diskio.DiskIoEngine;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.core.BackendProviders.Provider;
import org.aiolos.core.DiskIoEngineProviders;

/**
 * What {@link AioContext#diskIo()} returns: the context's one engine (QEMU
 * {@code aio_setup_linux_aio}), opened on first use from the configured provider or the
 * highest-ranked available one, behind a facade that stays valid across swaps.
 *
 * <p><b>Swap.</b> When the providers change (a bundle starts or stops) or the configured
 * name changes, the context reconsiders at a safe point of its own loop (a bottom half):
 * if another factory should serve it, the current engine stops receiving requests and
 * joins {@code draining}; the next request opens the new engine. A draining engine keeps
 * delivering completions through its own handlers until {@link DiskIoEngine#inFlight()}
 * is 0, checked every {@value #DRAIN_CHECK_NS} ns by a REALTIME timer (a bottom half that
 * rescheduled itself would keep the loop from ever blocking, and a loop that does not
 * block does not wait for fds either), and is then closed. No completion is lost: an engine is only
 * closed when it has none outstanding, and its close() would wait for them anyway.
 *
 * <p>Home thread only, except {@link #setConfigured} and the provider listener, which
 * only set a volatile flag and schedule the bottom half.
 */
public final class ContextDiskIo implements DiskIoEngine {
    private final AioContext ctx;
    private final DiskIoEngineProviders providers;
    private final Runnable listener = this::requestReselect;
    static final long DRAIN_CHECK_NS = 10_000_000L;
    /** Exists while an engine is open or draining (so a closed facade holds no bottom half). */
    private volatile BottomHalf maintenance;
    /** Armed while an engine drains. */
    private AioTimer drainCheck;
    private volatile String configured;
    /** Set from any thread: the choice must be re-made at the next safe point. */
    private volatile boolean reselect;
    private DiskIoEngine current;
    private DiskIoEngineFactory currentFactory;
    private final List<DiskIoEngine> draining = new ArrayList<>();

    public ContextDiskIo(AioContext ctx, String configured, DiskIoEngineProviders providers) {
        this.ctx = ctx;
        this.providers = providers;
        this.configured = configured;
    }

    /** Names the engine to use, or null for the best available; applied at the next safe point. */
    public void setConfigured(String engineName) {
        configured = engineName == null || engineName.isBlank() ? null : engineName;
        requestReselect();
    }

    public String configured() {
        return configured;
    }

    private void requestReselect() {
        reselect = true;
        BottomHalf m = maintenance;
        if (m != null) {
            try {
                m.schedule();
            } catch (IllegalStateException deletedMeanwhile) {
                // The facade closed concurrently: nothing is open, so nothing to swap.
            }
        }
    }

    private Provider<DiskIoEngineFactory> choose() {
        String want = configured;
        return want == null ? providers.best() : providers.best(want);
    }

    /** The engine new requests go to, opened if needed. */
    private DiskIoEngine engine() {
        if (!ctx.inHomeThread()) {
            throw new IllegalStateException("disk I/O of '" + ctx.name() + "' is submitted from its home thread, not '"
                    + Thread.currentThread().getName() + "'");
        }
        if (reselect) {
            maintain();
        }
        DiskIoEngine e = current;
        if (e == null) {
            e = open();
        }
        return e;
    }

    private DiskIoEngine open() {
        Provider<DiskIoEngineFactory> p = choose();
        if (p == null) {
            throw new IllegalStateException("AioContext '" + ctx.name() + "' has no disk-I/O engine: " + whyNone());
        }
        DiskIoEngine e = p.factory().open(ctx);
        if (maintenance == null) {
            maintenance = ctx.newBottomHalf("disk-I/O engine swap", this::maintain);
            drainCheck = ctx.newTimer(ClockType.REALTIME, TimeScale.NS, this::maintain);
            providers.addListener(listener);
        }
        current = e;
        currentFactory = p.factory();
        return e;
    }

    private String whyNone() {
        String want = configured;
        List<Provider<DiskIoEngineFactory>> all = providers.list();
        if (all.isEmpty()) {
            return "no engine provider is installed";
        }
        StringBuilder sb = new StringBuilder(want == null ? "no provider is available (" : "engine '" + want
                + "' is configured and not available (");
        boolean first = true;
        for (Provider<DiskIoEngineFactory> p : all) {
            if (want != null && !want.equals(p.name())) {
                continue;
            }
            sb.append(first ? "" : "; ").append(p.name()).append(": ").append(providers.unavailableReason(p.factory()));
            first = false;
        }
        if (first) {
            sb.append("no provider named '").append(want).append("'; installed: ");
            for (int i = 0; i < all.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(all.get(i).name());
            }
        }
        return sb.append(')').toString();
    }

    /** Safe point: re-choose if asked, close drained engines, keep checking while any drain. */
    private void maintain() {
        if (reselect) {
            reselect = false;
            DiskIoEngine e = current;
            if (e != null) {
                Provider<DiskIoEngineFactory> p = choose();
                boolean gone = !providers.contains(currentFactory);
                if (gone || p == null || p.factory() != currentFactory) {
                    draining.add(e);
                    current = null;
                    currentFactory = null;
                }
            }
        }
        for (int i = draining.size() - 1; i >= 0; i--) {
            DiskIoEngine e = draining.get(i);
            if (e.inFlight() == 0) {
                draining.remove(i);
                e.close();
            }
        }
        if (!draining.isEmpty()) {
            drainCheck.modNs(ctx.clocks().nowNs(ClockType.REALTIME) + DRAIN_CHECK_NS);
        }
    }

    @Override
    public String name() {
        return engine().name();
    }

    @Override
    public void readv(DiskFile file, long offset, MemorySegment[] buffers, IoCompletion completion) {
        engine().readv(file, offset, buffers, completion);
    }

    @Override
    public void writev(DiskFile file, long offset, MemorySegment[] buffers, boolean fua, IoCompletion completion) {
        engine().writev(file, offset, buffers, fua, completion);
    }

    @Override
    public void flush(DiskFile file, IoCompletion completion) {
        engine().flush(file, completion);
    }

    /** Requests outstanding on the current engine and on those still draining. */
    @Override
    public int inFlight() {
        int n = current == null ? 0 : current.inFlight();
        for (DiskIoEngine e : draining) {
            n += e.inFlight();
        }
        return n;
    }

    /** Engines still finishing requests after a swap. */
    public int drainingEngines() {
        return draining.size();
    }

    /** The name of the engine in use, or null when none is open yet. */
    public String currentName() {
        DiskIoEngine e = current;
        return e == null ? null : e.name();
    }

    /**
     * Closes every engine, waiting for their requests (their completions run first), and
     * drops the swap bottom half and the provider listener. The next request opens an
     * engine again. The context's close calls it; call it from the home thread, or from
     * any thread once the loop has stopped.
     */
    @Override
    public void close() {
        BottomHalf m = maintenance;
        if (m != null) {
            maintenance = null;
            providers.removeListener(listener);
            m.delete();
            drainCheck.cancel();
        }
        RuntimeException failure = null;
        List<DiskIoEngine> all = new ArrayList<>(draining);
        if (current != null) {
            all.add(current);
        }
        draining.clear();
        current = null;
        currentFactory = null;
        for (DiskIoEngine e : all) {
            try {
                e.close();
            } catch (RuntimeException ex) {
                if (failure == null) {
                    failure = ex;
                } else {
                    failure.addSuppressed(ex);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "disk I/O of '" + ctx.name() + "': " + (current == null ? "no engine open" : current.toString())
                + ", draining " + draining;
    }
}
