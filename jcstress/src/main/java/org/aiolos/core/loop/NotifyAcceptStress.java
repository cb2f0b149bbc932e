package org.aiolos.core.loop;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZ_Result;

/**
 * A bottom half scheduled while the loop accepts the previous notify and takes the BH
 * list: either this iteration takes the BH, or the notify stays pending so the next
 * iteration does not block. Never both missed.
 */
@JCStressTest
@Outcome(id = "false, false", expect = FORBIDDEN, desc = "the BH was missed and the notify consumed: it waits for an unrelated wake-up")
@Outcome(id = "true, false", expect = ACCEPTABLE, desc = "taken now; notify consumed")
@Outcome(id = "true, true", expect = ACCEPTABLE, desc = "taken now; a spare notify stays pending")
@Outcome(id = "false, true", expect = ACCEPTABLE, desc = "taken next iteration, which will not block")
@State
public class NotifyAcceptStress {
    private final NotifyProtocol protocol = new NotifyProtocol();
    private final BhList list = new BhList();
    private final BottomHalfImpl bh = new BottomHalfImpl(null, "bh", () -> { }, null, 0);

    @Actor
    public void producer() {
        list.enqueue(bh, BottomHalfImpl.SCHEDULED);
        protocol.signal();
    }

    @Actor
    public void loop(ZZ_Result r) {
        protocol.accept();
        r.r1 = list.takeAll() != null;
    }

    @Arbiter
    public void after(ZZ_Result r) {
        r.r2 = protocol.isNotified();
    }
}
