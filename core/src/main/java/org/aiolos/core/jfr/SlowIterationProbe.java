package org.aiolos.core.jfr;

import static org.aiolos.core.jfr.SlowLoopIterationEvent.BOTTOM_HALF_TIME;
import static org.aiolos.core.jfr.SlowLoopIterationEvent.BOTTOM_HALVES;
import static org.aiolos.core.jfr.SlowLoopIterationEvent.CONTEXT;
import static org.aiolos.core.jfr.SlowLoopIterationEvent.FD_HANDLERS;
import static org.aiolos.core.jfr.SlowLoopIterationEvent.FD_HANDLER_TIME;
import static org.aiolos.core.jfr.SlowLoopIterationEvent.TIMER_PASSES;
import static org.aiolos.core.jfr.SlowLoopIterationEvent.TIMER_TIME;

import jdk.jfr.Event;

/**
 * Times one context's outermost loop iterations for {@link SlowLoopIterationEvent}. The
 * loop calls the four methods in order, in its home thread, passing its nesting depth and
 * its running counters; calls at depth above 0 (a nested {@code poll} from a callback) are
 * ignored, so a nested iteration counts inside the one that contains it.
 *
 * <p>Cost: while no recording enables the event, {@link #begin} is one read of the event
 * class' JFR configuration and the other methods one read of a boolean field. While one
 * does, an iteration takes four {@code System.nanoTime()} reads; an event is filled and
 * committed only when the iteration crossed the threshold (its fields boxed then). Nothing
 * else is allocated: the probe reuses one event object (JFR's {@code begin}/{@code end}
 * overwrite its start and duration), which is safe because only the home thread touches it.
 */
public final class SlowIterationProbe {
    private final String context;
    /** Home thread only, reused for every iteration. */
    private final Event event = SlowLoopIterationEvent.FACTORY.newEvent();
    /** Home thread: an iteration is being timed. */
    private boolean timing;
    private long bhsAtStart;
    private long fdsAtStart;
    private long timersAtStart;
    private long startNs;
    private long bhsDoneNs;
    private long fdsDoneNs;

    public SlowIterationProbe(String context) {
        this.context = context;
    }

    /** The wait is over and dispatching starts. */
    public void begin(int depth, long bhsRun, long fdsDispatched, long timersRun) {
        if (depth != 0 || !event.isEnabled()) {
            return;
        }
        timing = true;
        bhsAtStart = bhsRun;
        fdsAtStart = fdsDispatched;
        timersAtStart = timersRun;
        event.begin();
        startNs = System.nanoTime();
    }

    /** The monitor's dispatch and the bottom halves are done. */
    public void bottomHalvesDone(int depth) {
        if (timing && depth == 0) {
            bhsDoneNs = System.nanoTime();
        }
    }

    /** The ready fd handlers are done. */
    public void fdHandlersDone(int depth) {
        if (timing && depth == 0) {
            fdsDoneNs = System.nanoTime();
        }
    }

    /** The timers are done: the iteration is over; commits it if it crossed the threshold. */
    public void end(int depth, long bhsRun, long fdsDispatched, long timersRun) {
        if (!timing || depth != 0) {
            return;
        }
        timing = false;
        long endNs = System.nanoTime();
        Event e = event;
        e.end();
        if (e.shouldCommit()) {
            e.set(CONTEXT, context);
            e.set(BOTTOM_HALVES, bhsRun - bhsAtStart);
            e.set(BOTTOM_HALF_TIME, bhsDoneNs - startNs);
            e.set(FD_HANDLERS, fdsDispatched - fdsAtStart);
            e.set(FD_HANDLER_TIME, fdsDoneNs - bhsDoneNs);
            e.set(TIMER_PASSES, timersRun - timersAtStart);
            e.set(TIMER_TIME, endNs - fdsDoneNs);
            e.commit();
        }
    }
}
