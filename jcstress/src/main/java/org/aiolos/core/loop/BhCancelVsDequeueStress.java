package org.aiolos.core.loop;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * cancel() racing the dequeue of a scheduled BH: it runs once or not at all, and either
 * way it ends off every list (not pending), so nothing leaks.
 */
@JCStressTest
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "dequeued before the cancel: ran")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "cancelled first: skipped")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "ran twice, or left pending")
@State
public class BhCancelVsDequeueStress {
    private final BhList list = new BhList();
    private final BottomHalfImpl bh = new BottomHalfImpl(null, "bh", () -> { }, null, 0);

    public BhCancelVsDequeueStress() {
        list.enqueue(bh, BottomHalfImpl.SCHEDULED);
    }

    @Actor
    public void cancel() {
        bh.cancel();
    }

    @Actor
    public void dispatch(II_Result r) {
        r.r1 = BhScheduleVsDequeueStress.drain(list);
    }

    @Arbiter
    public void after(II_Result r) {
        r.r2 = (bh.flags() & BottomHalfImpl.PENDING) != 0 ? 1 : 0;
    }
}
