package org.aiolos.core.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;
import jdk.jfr.Timespan;

/**
 * One outermost loop iteration ({@code aio_poll} at nesting depth 0) whose work after the
 * wait took longer than the event's {@code threshold} setting (10 ms unless a recording
 * says otherwise: {@code jcmd <pid> JFR.start org.aiolos.SlowLoopIteration#threshold=1ms}).
 * The duration covers what the loop did once woken: the monitor's own dispatch, bottom
 * halves, ready fd handlers, timers; not the time it slept in the monitor's wait. The
 * three phase times and counts say which of them took the time. Committed by
 * {@link SlowIterationProbe} in the context's home thread, so the event's thread is the
 * IOThread.
 */
@Name("org.aiolos.SlowLoopIteration")
@Label("Slow Loop Iteration")
@Category({"Aiolos", "Event Loop"})
@Description("An outermost event-loop iteration whose dispatch (after the wait) ran longer than the threshold")
@Threshold("10 ms")
@StackTrace(false)
final class SlowLoopIterationEvent extends jdk.jfr.Event {
    @Label("Context")
    String context;

    @Label("Bottom Halves Run")
    long bottomHalves;

    @Label("Bottom-Half Time")
    @Description("The fd monitor's own dispatch and the bottom halves")
    @Timespan(Timespan.NANOSECONDS)
    long bottomHalfTime;

    @Label("Fd Handlers Dispatched")
    long fdHandlers;

    @Label("Fd-Handler Time")
    @Timespan(Timespan.NANOSECONDS)
    long fdHandlerTime;

    @Label("Timers Run")
    long timers;

    @Label("Timer Time")
    @Timespan(Timespan.NANOSECONDS)
    long timerTime;
}
