package org.aiolos.threadpool;

import static org.aiolos.threadpool.Fixture.pollUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.aiolos.api.threadpool.PoolRequest;
import org.aiolos.api.threadpool.ThreadPool;
import org.aiolos.core.AiolosContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Bad input to the thread pool (docs/reliability.md): rejected up front, and the pool keeps working. */
class ThreadPoolBadInputTest {
    private final Fixture fx = new Fixture();

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void nullWorkOrCompletionIsRejectedAndACancelAfterCompletionIsANoOp() {
        AiolosContext ctx = fx.open("pool-bad");
        try (ThreadPool pool = new WorkerPoolFactory(WorkerPoolFactory.DEFAULT_IDLE_TIMEOUT).open(ctx)) {
            NullPointerException w = assertThrows(NullPointerException.class, () -> pool.submit(null, (v, f) -> { }));
            assertTrue(w.getMessage().contains("work"), w.getMessage());
            NullPointerException c = assertThrows(NullPointerException.class, () -> pool.submit(() -> 1, null));
            assertTrue(c.getMessage().contains("completion"), c.getMessage());
            assertEquals(0, pool.inFlight(), "a rejected submission was counted");
            IllegalArgumentException huge = assertThrows(IllegalArgumentException.class,
                    () -> pool.updateParams(0, -1));
            assertTrue(huge.getMessage().contains("thread-pool-max"), huge.getMessage());

            List<Integer> seen = new ArrayList<>();
            PoolRequest r = pool.submit(() -> 7, (v, f) -> seen.add(v));
            pollUntil(ctx, () -> seen.size() == 1, "the completion after bad submissions");
            assertEquals(List.of(7), seen);
            assertFalse(r.cancel(), "cancelling a completed request");
            assertFalse(r.cancel(), "cancelling it twice");
            assertEquals(List.of(7), seen, "the completion ran again");
        }
        ctx.close();
    }
}
