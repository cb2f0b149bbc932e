package org.aiolos.core.loop;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * A wakeUp racing a loop about to block: the loop must either see the notify (and not
 * block) or the producer must see the loop blocking (and write the eventfd).
 */
@JCStressTest
@Outcome(id = "0, 0", expect = FORBIDDEN, desc = "lost wake-up: the loop blocks and nobody writes the eventfd")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the loop saw the notify and does not block")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "the producer writes the eventfd")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "both: a spare eventfd write")
@State
public class NotifyLostWakeupStress {
    private final NotifyProtocol protocol = new NotifyProtocol();

    @Actor
    public void loop(II_Result r) {
        r.r1 = protocol.enterBlocking() ? 1 : 0;
    }

    @Actor
    public void producer(II_Result r) {
        r.r2 = protocol.signal() ? 1 : 0;
    }
}
