package org.aiolos.core.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * A context moved from one backend to another: fd monitor, thread pool or disk-I/O
 * engine. Committed once the old backend is retired: at once for an fd monitor (the swap
 * happens at one safe point), after the drain for a thread pool or an engine (the work in
 * flight on the old one has completed and it is closed), so {@code drainTime} says how
 * long the old one lingered. Rare, so it is allocated when committed.
 */
@Name("org.aiolos.BackendSwap")
@Label("Backend Swap")
@Category({"Aiolos", "Event Loop"})
@Description("A context swapped its fd monitor, thread pool or disk-I/O engine")
@StackTrace(false)
public final class BackendSwapEvent extends jdk.jfr.Event {
    /** The {@code kind} of an fd-monitor swap. */
    public static final String FDMON = "fdmon";
    /** The {@code kind} of a thread-pool swap. */
    public static final String THREAD_POOL = "thread-pool";
    /** The {@code kind} of a disk-I/O engine swap. */
    public static final String AIO_ENGINE = "aio-engine";

    private static final BackendSwapEvent PROBE = new BackendSwapEvent();

    @Label("Context")
    String context;

    @Label("Kind")
    @Description("fdmon, thread-pool or aio-engine")
    String kind;

    @Label("From")
    @Description("The backend retired; empty when there was none")
    String from;

    @Label("To")
    @Description("The backend in use now; empty when there is none")
    String to;

    @Label("Reason")
    @Description("Why: configuration, operator request, provider arrived, provider withdrawn, ...")
    String reason;

    @Label("Drain Time")
    @Description("From the swap until the old backend's work in flight had completed and it was closed")
    @Timespan(Timespan.NANOSECONDS)
    long drainTime;

    private BackendSwapEvent() {
    }

    /** Whether a recording wants the event: check before computing costly arguments. */
    public static boolean enabled() {
        return PROBE.isEnabled();
    }

    /**
     * Records a swap if a recording wants it.
     *
     * @param kind {@link #FDMON}, {@link #THREAD_POOL} or {@link #AIO_ENGINE}
     * @param drainNanos how long the old backend drained (0 for an fd monitor)
     */
    public static void emit(String context, String kind, String from, String to, String reason, long drainNanos) {
        if (!PROBE.isEnabled()) {
            return;
        }
        BackendSwapEvent e = new BackendSwapEvent();
        e.context = context;
        e.kind = kind;
        e.from = from == null ? "" : from;
        e.to = to == null ? "" : to;
        e.reason = reason == null ? "" : reason;
        e.drainTime = drainNanos;
        e.commit();
    }
}
