package org.aiolos.core.jfr;

import jdk.jfr.Event;
import jdk.jfr.EventFactory;

/**
 * {@code org.aiolos.BackendSwap}: a context moved from one backend to another: fd monitor,
 * thread pool or disk-I/O engine. To be committed once the old backend is retired: at once
 * for an fd monitor (the swap happens at one safe point), after the drain for a thread
 * pool or an engine (the work in flight on the old one has completed and it is closed),
 * so {@code drainTime} says how long the old one lingered. Rare, so an event is allocated
 * only when a recording wants it.
 */
public final class BackendSwapEvent {
    /** The {@code kind} of an fd-monitor swap. */
    public static final String FDMON = "fdmon";
    /** The {@code kind} of a thread-pool swap. */
    public static final String THREAD_POOL = "thread-pool";
    /** The {@code kind} of a disk-I/O engine swap. */
    public static final String AIO_ENGINE = "aio-engine";

    private static final EventDefinition D = new EventDefinition("org.aiolos.BackendSwap", "Backend Swap",
            "A context swapped its fd monitor, thread pool or disk-I/O engine", "Aiolos", "Event Loop");
    private static final int CONTEXT = D.field(String.class, "context", "Context", null);
    private static final int KIND = D.field(String.class, "kind", "Kind", "fdmon, thread-pool or aio-engine");
    private static final int FROM = D.field(String.class, "from", "From", "The backend retired; empty when none");
    private static final int TO = D.field(String.class, "to", "To", "The backend in use now; empty when none");
    private static final int REASON = D.field(String.class, "reason", "Reason",
            "Why: configuration, operator request, provider arrived, provider withdrawn, ...");
    private static final int DRAIN_TIME = D.nanos("drainTime", "Drain Time",
            "From the swap until the old backend's work in flight had completed and it was closed");
    static final EventFactory FACTORY = D.create();
    private static final Event PROBE = FACTORY.newEvent();

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
        Event e = FACTORY.newEvent();
        e.set(CONTEXT, context);
        e.set(KIND, kind);
        e.set(FROM, from == null ? "" : from);
        e.set(TO, to == null ? "" : to);
        e.set(REASON, reason == null ? "" : reason);
        e.set(DRAIN_TIME, drainNanos);
        e.commit();
    }
}
