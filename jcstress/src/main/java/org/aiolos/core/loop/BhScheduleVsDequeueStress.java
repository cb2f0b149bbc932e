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
 * A second schedule of a pending BH racing the home thread's dequeue: it either merges
 * with the first (one run) or re-links the BH for the next dispatch (two runs). Never
 * lost, never linked twice.
 */
@JCStressTest
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "merged with the pending schedule: one run")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "re-linked after the dequeue: runs again next time")
@Outcome(id = "0, .*", expect = FORBIDDEN, desc = "the pending run was lost")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "ran too often, or linked twice")
@State
public class BhScheduleVsDequeueStress {
    private final BhList list = new BhList();
    private final BottomHalfImpl bh = new BottomHalfImpl(null, "bh", () -> { }, null, 0);

    public BhScheduleVsDequeueStress() {
        list.enqueue(bh, BottomHalfImpl.SCHEDULED);
    }

    @Actor
    public void schedule() {
        list.enqueue(bh, BottomHalfImpl.SCHEDULED);
    }

    @Actor
    public void dispatch(II_Result r) {
        r.r1 = drain(list);
    }

    @Arbiter
    public void next(II_Result r) {
        r.r2 = drain(list);
    }

    /** The dequeue half of aio_bh_poll: pop, read the link, then clear the flags. */
    static int drain(BhList list) {
        int runs = 0;
        BottomHalfImpl b = list.takeAll();
        while (b != null) {
            BottomHalfImpl next = b.next;
            b.next = null;
            int old = b.takeFlags();
            if ((old & (BottomHalfImpl.SCHEDULED | BottomHalfImpl.DELETED)) == BottomHalfImpl.SCHEDULED) {
                runs++;
            }
            b = next;
        }
        return runs;
    }
}
