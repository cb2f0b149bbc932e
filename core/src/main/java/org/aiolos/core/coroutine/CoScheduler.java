package org.aiolos.core.coroutine;

import java.util.ArrayList;
import java.util.List;
import org.aiolos.api.AioContext;
import org.aiolos.api.BottomHalf;

/**
 * A context's scheduled coroutines (QEMU {@code scheduled_coroutines} and
 * {@code co_schedule_bh}; {@code aio_co_schedule} and {@code co_schedule_bh_cb} in
 * {@code util/async.c}): a lock-free LIFO that any thread pushes onto, and
 * a bottom half that takes the whole list, reverses it to scheduling order and enters
 * each coroutine in the context's thread.
 *
 * <p>The bottom half is scheduled only by the push that finds the list empty: a
 * non-empty list already has a bottom-half run coming that will take it. So the bottom
 * half is never left pending over an empty list, and a context whose list is empty has
 * nothing of ours for close() to complain about.
 */
public final class CoScheduler {
    static final String AIO_CO_SCHEDULE = "aio_co_schedule";

    private final AioContext ctx;
    private final BottomHalf bh;
    private final ScheduledList list = new ScheduledList();

    public CoScheduler(AioContext ctx) {
        this.ctx = ctx;
        this.bh = ctx.newBottomHalf("co_schedule", this::runScheduled);
    }

    /**
     * QEMU {@code aio_co_schedule}: marks {@code co} scheduled by {@code by} and queues it.
     *
     * @throws IllegalStateException if it is already scheduled (naming by whom) or finished
     */
    void schedule(CoroutineImpl co, String by) {
        if (co.finished) {
            throw new IllegalStateException(by + ": cannot schedule " + co + " in " + ctx + ": it has finished");
        }
        if (list.claimAndPush(co, by)) {
            bh.schedule();
        }
    }

    /** The bottom half: enters everything scheduled so far, first scheduled first. */
    private void runScheduled() {
        CoroutineImpl fifo = list.takeAll();
        Throwable failure = null;
        while (fifo != null) {
            CoroutineImpl co = fifo;
            fifo = co.schedNext;
            co.schedNext = null;
            co.clearScheduled();
            try {
                co.engine.enterNow(ctx, co);
            } catch (Throwable t) {
                // Keep entering the rest: one failure must not strand the others. The loop
                // reports what we rethrow to the context's failure handler.
                failure = CoroutineEngine.chain(failure, t);
            }
        }
        if (failure != null) {
            CoroutineEngine.rethrow(failure);
        }
    }

    /**
     * How many coroutines are scheduled. Read from any thread for statistics: the walk may
     * see the list mid-change, so the count is a snapshot that can be slightly off.
     */
    public int scheduledCount() {
        int n = 0;
        for (CoroutineImpl c = list.peek(); c != null; c = c.schedNext) {
            n++;
        }
        return n;
    }

    /** The coroutines still scheduled, described for close()'s refusal. */
    public List<String> scheduledDescriptions() {
        List<String> out = new ArrayList<>();
        for (CoroutineImpl c = list.peek(); c != null; c = c.schedNext) {
            out.add(c + " scheduled by '" + c.scheduledBy() + "'");
        }
        return out;
    }
}
