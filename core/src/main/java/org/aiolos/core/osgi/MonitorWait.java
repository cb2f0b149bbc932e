package org.aiolos.core.osgi;

import org.aiolos.core.AiolosContext;

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
}
