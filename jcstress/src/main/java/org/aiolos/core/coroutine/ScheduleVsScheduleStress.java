package org.aiolos.core.coroutine;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * Two threads aio_co_schedule the same yielded coroutine ({@code util/async.c}): exactly one claims
 * the scheduled marker and queues it; the other gets the "already scheduled" error; the
 * coroutine is queued once. r1/r2: whether each actor's schedule succeeded; r3: how many
 * times the coroutine is on the list.
 */
@JCStressTest
@Outcome(id = {"1, 0, 1", "0, 1, 1"}, expect = ACCEPTABLE, desc = "one wins, the other is refused, queued once")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "both or neither scheduled it, or it is queued other than once")
@State
public class ScheduleVsScheduleStress {
    private final ScheduledList list = new ScheduledList();
    private final CoroutineImpl co = new CoroutineImpl(null, null, "co", () -> { });

    static int schedule(ScheduledList list, CoroutineImpl co) {
        try {
            list.claimAndPush(co, CoScheduler.AIO_CO_SCHEDULE);
            return 1;
        } catch (IllegalStateException alreadyScheduled) {
            return 0;
        }
    }

    /** How many entries the list holds, and -1 if the marker does not match (taken or not). */
    static int drain(ScheduledList list, CoroutineImpl co) {
        int n = 0;
        for (CoroutineImpl c = list.takeAll(); c != null; c = c.schedNext) {
            n++;
        }
        boolean marked = CoScheduler.AIO_CO_SCHEDULE.equals(co.scheduledBy());
        return marked == (n > 0) ? n : -1;
    }

    @Actor
    public void first(III_Result r) {
        r.r1 = schedule(list, co);
    }

    @Actor
    public void second(III_Result r) {
        r.r2 = schedule(list, co);
    }

    @Arbiter
    public void check(III_Result r) {
        r.r3 = drain(list, co);
    }
}
