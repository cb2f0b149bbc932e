package org.aiolos.threadpool;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * A worker finishes two requests one after the other (outcome written, DONE stored with
 * release, pushed on the finished stack) while the home thread takes what is there and
 * delivers it; the arbiter takes the rest. Each request is delivered exactly once, and a
 * delivered request is DONE with its result visible (bit 1: request a with 41, bit 2:
 * request b with 42; bit 4: delivered before DONE or with a wrong result). Two actors:
 * the machines this runs on have 2 CPUs.
 */
@JCStressTest
@Outcome(id = {"0, 3", "1, 2", "3, 0"}, expect = ACCEPTABLE, desc = "each delivered once, complete")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "lost, delivered twice, or seen before its outcome")
@State
public class FinishedRequestStress {
    private final FinishedStack stack = new FinishedStack();
    private int delivered;
    private final Request<Integer> a = new Request<>(null, 1, () -> 41, (v, f) -> record(v, 41, 1, f));
    private final Request<Integer> b = new Request<>(null, 2, () -> 42, (v, f) -> record(v, 42, 2, f));

    private void record(Integer v, int expected, int bit, Throwable f) {
        delivered |= (f == null && v != null && v == expected) ? bit : 4;
    }

    private int deliverAll() {
        delivered = 0;
        for (Request<?> r = stack.takeAll(); r != null; ) {
            Request<?> next = r.doneNext;
            r.doneNext = null;
            try {
                r.deliver();
            } catch (IllegalStateException notDone) {
                delivered |= 4;
            }
            r = next;
        }
        return delivered;
    }

    @Actor
    public void worker() {
        a.run();
        stack.push(a);
        b.run();
        stack.push(b);
    }

    @Actor
    public void home(II_Result r) {
        r.r1 = deliverAll();
    }

    @Arbiter
    public void rest(II_Result r) {
        r.r2 = deliverAll();
    }
}
