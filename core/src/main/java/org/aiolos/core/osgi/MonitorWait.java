package org.aiolos.core.osgi;

import org.aiolos.core.AiolosContext;
import org.aiolos.api.BackendStatus;

/** Waits (briefly) for a context to reach its next safe point after a monitor change. */
final class MonitorWait {
    private MonitorWait() {
    }

    /**
     * @param want the requested monitor, or empty for QEMU's policy (any monitor will do)
     * @return the monitor in use when it matches or the time is up
     */
    static String until(AiolosContext ctx, String want, long timeoutMs) throws InterruptedException {
        long swapsBefore = ctx.stats().monitorSwaps();
        // With QEMU's policy the context may already be on the best monitor: no swap comes.
        long deadline = System.nanoTime() + (want.isEmpty() ? Math.min(timeoutMs, 200) : timeoutMs) * 1_000_000;
        while (System.nanoTime() < deadline) {
            String now = ctx.fdMonitorName();
            if (want.isEmpty() ? ctx.stats().monitorSwaps() != swapsBefore : now.equals(want)) {
                return now;
            }
            if (!want.isEmpty() && ctx.fdMonitorNote() != null && ctx.fdMonitorNote().contains(want)) {
                return now; // asked for a monitor it cannot use: the note says why
            }
            Thread.sleep(5);
        }
        return ctx.fdMonitorName();
    }

    /**
     * Waits for the context's next safe point to apply a change of {@code kind}: until
     * {@code want} serves, a note says why it cannot, or nothing is open and nothing
     * retiring (the next request opens the new choice). For {@code want} null (the best available) the current one
     * may already be it, so the wait is short.
     */
    static BackendStatus applied(AiolosContext ctx, String kind, String want, long timeoutMs)
            throws InterruptedException {
        long deadline = System.nanoTime() + (want == null ? Math.min(timeoutMs, 200) : timeoutMs) * 1_000_000;
        BackendStatus s = status(ctx, kind);
        // A slot that served swaps to the named one at once (retire, then open); one that never
        // opened stays empty until its first request.
        boolean wasServing = s.serving() != null;
        while (System.nanoTime() < deadline) {
            s = status(ctx, kind);
            // Nothing serving counts as settled only with nothing retiring, and not while a named
            // one is to replace a backend that served: at the safe point the slot retires the old
            // backend (serving null; draining 0 when nothing was in flight) an instant before the
            // new one opens, and a status read in between is not the outcome.
            boolean settled = s.note() != null || (want != null && want.equals(s.serving()))
                    || (s.serving() == null && s.draining() == 0 && !(want != null && wasServing));
            if (settled && java.util.Objects.equals(s.configured(), want)) {
                return s;
            }
            Thread.sleep(5);
        }
        return s;
    }

    static BackendStatus status(AiolosContext ctx, String kind) {
        for (BackendStatus s : ctx.backends()) {
            if (s.kind().equals(kind) && s.user() == null) {
                return s; // the context's own, not an export's engine
            }
        }
        throw new IllegalArgumentException("no backend kind " + kind);
    }
}
