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
 * A sleeping coroutine's wake-up ({@code qemu_co_sleep_wake} in QEMU's
 * {@code util/qemu-coroutine-sleep.c}: take the sleeper, release the
 * {@code co_sleep_ns} marker, wake it; from another thread the wake is an aio_co_schedule)
 * racing a stray aio_co_schedule of the same coroutine from a third thread: never both
 * queue it. Either the wake queues it and the stray schedule is refused (it saw
 * {@code co_sleep_ns} or the wake's {@code aio_co_schedule}), or the stray schedule got in
 * between release and wake, and the wake is refused. r1: the wake queued it; r2: the stray
 * schedule queued it; r3: times on the list.
 */
@JCStressTest
@Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "the wake queued it; the stray schedule was refused")
@Outcome(id = "0, 1, 1", expect = ACCEPTABLE, desc = "the stray schedule got in after the marker was released; the wake was refused")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "queued twice or not at all")
@State
public class SleepWakeVsScheduleStress {
    private final ScheduledList list = new ScheduledList();
    private final CoSleepImpl sleep = new CoSleepImpl(null);
    private final CoroutineImpl co = new CoroutineImpl(null, null, "sleeper", () -> { });

    public SleepWakeVsScheduleStress() {
        sleep.park(co); // the sleeper has claimed co_sleep_ns and yielded
    }

    @Actor
    public void wake(III_Result r) {
        CoroutineImpl taken = sleep.unpark();
        r.r1 = taken == null ? 0 : ScheduleVsScheduleStress.schedule(list, taken);
    }

    @Actor
    public void straySchedule(III_Result r) {
        r.r2 = ScheduleVsScheduleStress.schedule(list, co);
    }

    @Arbiter
    public void check(III_Result r) {
        r.r3 = ScheduleVsScheduleStress.drain(list, co);
    }
}
