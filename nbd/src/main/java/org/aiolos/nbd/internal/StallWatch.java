package org.aiolos.nbd.internal;

import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;

/**
 * The waiting side of the export budget's stall rule: while a receiver waits for room in
 * its export's payload budget, a timer in its own context looks every quarter of the stall
 * period for connections of the export that hold budget and have moved no byte on their
 * socket for the whole period, and asks each to check itself
 * ({@link Transmission#stallSuspected}), which happens in that connection's own context.
 *
 * <p>Why: a WRITE holds its share while the server waits for a payload that may never
 * come, and a READ until its reply is sent, which never happens when the client stops
 * reading. Without the rule a few such clients hold the whole export budget for as long
 * as they keep their sockets open, and every other client of the export waits with them.
 */
final class StallWatch {
    /**
     * How long a connection holding export budget may make no progress on its socket
     * while another connection waits for that budget, before it is disconnected.
     */
    static final long STALL_PERIOD_NS = 10_000_000_000L;
    /** Looks per stall period: a stall is noticed at most a quarter period late. */
    private static final int LOOKS_PER_PERIOD = 4;

    private final AioContext ctx;
    private final Export export;
    private final ServerCore server;
    private AioTimer timer;

    StallWatch(AioContext ctx, Export export, ServerCore server) {
        this.ctx = ctx;
        this.export = export;
        this.server = server;
    }

    /** The receiver starts waiting for the export's budget: look now, then every quarter period. Home thread. */
    void start() {
        if (timer == null) {
            timer = ctx.newTimer(ClockType.REALTIME, TimeScale.NS, this::look);
        }
        if (!timer.isPending()) {
            timer.modNs(ctx.clocks().nowNs(ClockType.REALTIME));
        }
    }

    /** The wait is over (room, or the connection ends). Home thread; idempotent. */
    void stop() {
        if (timer != null) {
            timer.cancel();
        }
    }

    private void look() {
        long periodNs = server.stallPeriodNs();
        for (Transmission holder : export.holdersIdleFor(System.nanoTime(), periodNs)) {
            holder.stallSuspected();
        }
        timer.modNs(ctx.clocks().nowNs(ClockType.REALTIME) + periodNs / LOOKS_PER_PERIOD);
    }
}
