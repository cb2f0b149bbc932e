package org.aiolos.core.jfr;

import jdk.jfr.EventFactory;

/**
 * {@code org.aiolos.SlowLoopIteration}: one outermost loop iteration ({@code aio_poll} at
 * nesting depth 0) whose work after the wait took longer than the event's
 * {@code threshold} setting (10 ms unless a recording says otherwise:
 * {@code jcmd <pid> JFR.start org.aiolos.SlowLoopIteration#threshold=1ms}). The duration
 * covers what the loop did once woken: the monitor's own dispatch, bottom halves, ready fd
 * handlers, timers; not the time it slept in the monitor's wait. The three phase times and
 * counts say which of them took the time. Committed by {@link SlowIterationProbe} in the
 * context's home thread, so the event's thread is the IOThread.
 */
final class SlowLoopIterationEvent {
    private static final EventDefinition D = new EventDefinition("org.aiolos.SlowLoopIteration",
            "Slow Loop Iteration", "An outermost event-loop iteration whose dispatch (after the wait) ran longer"
            + " than the threshold", "Aiolos", "Event Loop").threshold("10 ms");
    static final int CONTEXT = D.field(String.class, "context", "Context", null);
    static final int BOTTOM_HALVES = D.field(long.class, "bottomHalves", "Bottom Halves Run", null);
    static final int BOTTOM_HALF_TIME = D.nanos("bottomHalfTime", "Bottom-Half Time",
            "The fd monitor's own dispatch and the bottom halves");
    static final int FD_HANDLERS = D.field(long.class, "fdHandlers", "Fd Handlers Dispatched", null);
    static final int FD_HANDLER_TIME = D.nanos("fdHandlerTime", "Fd-Handler Time", "The ready fd handlers");
    static final int TIMER_PASSES = D.field(long.class, "timerPasses", "Timer Passes",
            "Clocks whose expired timers ran (one pass runs every expired timer of one clock)");
    static final int TIMER_TIME = D.nanos("timerTime", "Timer Time", "The expired timers' callbacks");
    static final EventFactory FACTORY = D.create();

    private SlowLoopIterationEvent() {
    }
}
