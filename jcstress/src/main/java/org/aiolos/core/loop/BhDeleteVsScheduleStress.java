package org.aiolos.core.loop;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/** delete() racing a schedule from another thread: DELETED wins, the callback never runs. */
@JCStressTest
@Outcome(id = "0", expect = ACCEPTABLE, desc = "deleted: never runs")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a deleted BH ran")
@State
public class BhDeleteVsScheduleStress {
    private final BhList list = new BhList();
    private final BottomHalfImpl bh = new BottomHalfImpl(null, "bh", () -> { }, null, 0);

    @Actor
    public void delete() {
        list.enqueue(bh, BottomHalfImpl.DELETED);
    }

    @Actor
    public void schedule() {
        list.enqueue(bh, BottomHalfImpl.SCHEDULED);
    }

    @Arbiter
    public void dispatch(I_Result r) {
        r.r1 = BhScheduleVsDequeueStress.drain(list) + BhScheduleVsDequeueStress.drain(list);
    }
}
