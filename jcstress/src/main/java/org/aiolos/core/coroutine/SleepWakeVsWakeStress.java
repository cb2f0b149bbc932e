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
 * The sleep timer and an early qemu_co_sleep_wake racing for the same sleeper
 * ({@code util/qemu-coroutine-sleep.c}):
 * exactly one takes it, and the {@code co_sleep_ns} marker ends released. r1/r2: whether
 * each waker took it; r3: 1 if the marker is clear afterwards.
 */
@JCStressTest
@Outcome(id = {"1, 0, 1", "0, 1, 1"}, expect = ACCEPTABLE, desc = "one waker takes it, the marker is released")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "both or neither took it, or the marker is left set")
@State
public class SleepWakeVsWakeStress {
    private final CoSleepImpl sleep = new CoSleepImpl(null);
    private final CoroutineImpl co = new CoroutineImpl(null, null, "sleeper", () -> { });

    public SleepWakeVsWakeStress() {
        sleep.park(co);
    }

    @Actor
    public void timer(III_Result r) {
        r.r1 = sleep.unpark() == co ? 1 : 0;
    }

    @Actor
    public void earlyWake(III_Result r) {
        r.r2 = sleep.unpark() == co ? 1 : 0;
    }

    @Arbiter
    public void check(III_Result r) {
        r.r3 = co.scheduledBy() == null ? 1 : 0;
    }
}
