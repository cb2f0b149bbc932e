package org.aiolos.core.loop;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * A handler removal racing the home thread resolving a kernel completion of it, while
 * another handler takes over the freed slot: the stale id resolves to the old handler
 * (which dispatch then drops because it is deleted) or to nothing; never to the new one.
 */
@JCStressTest
@Outcome(id = "1", expect = ACCEPTABLE, desc = "resolved to the old handler before the removal")
@Outcome(id = "2", expect = ACCEPTABLE, desc = "resolved to the old handler, already marked deleted")
@Outcome(id = "0", expect = ACCEPTABLE, desc = "stale: dropped")
@Outcome(id = "3", expect = FORBIDDEN, desc = "a completion of the old fd reached the new handler")
@State
public class HandlerIdReuseStress {
    private final HandlerRegistry registry = new HandlerRegistry();
    private final HandlerNode old;

    public HandlerIdReuseStress() {
        registry.lock.lock();
        try {
            old = registry.add(null, 10, () -> { }, null, null, null, false);
        } finally {
            registry.lock.unlock();
        }
    }

    @Actor
    public void removeAndReuse() {
        registry.lock.lock();
        try {
            registry.remove(old);
            registry.retire(old);
            registry.add(null, 11, () -> { }, null, null, null, false); // takes the freed slot
        } finally {
            registry.lock.unlock();
        }
    }

    @Actor
    public void resolve(I_Result r) {
        HandlerNode n = registry.resolve(old.registrationId);
        r.r1 = n == null ? 0 : n == old ? (n.deleted ? 2 : 1) : 3;
    }
}
