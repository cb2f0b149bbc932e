package org.aiolos.threadpool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.PriorityQueue;
import org.aiolos.api.AioContext;
import org.aiolos.api.BottomHalf;

/**
 * Delivers finished requests to their completions in the home thread (QEMU
 * {@code completion_bh}).
 *
 * <p>Workers push finished requests on a lock-free stack and schedule the bottom half.
 * The bottom half moves them into a home-thread heap ordered by submission, newest first,
 * and delivers one at a time: it schedules itself again before each completion (so a
 * nested poll inside the completion still delivers the others, and a completion that
 * throws leaves the rest for the next iteration), and cancels that schedule after it.
 * One run delivers only what it found when it began; what finishes meanwhile goes to a
 * run at the next iteration, so completions that resubmit at once cannot hold the loop.
 * Among requests finished at the same time
 * the most recently submitted completes first, as in QEMU; the heap makes each step
 * O(log n) where QEMU walks every outstanding request.
 *
 * <p><b>One wake-up per batch.</b> QEMU's {@code worker_thread} (util/thread-pool.c) calls
 * {@code qemu_bh_schedule} for every finished request, and each schedule is an
 * {@code aio_notify}: with a sleeping loop and 32 requests finishing close together, most
 * of them write the context's eventfd again before the loop has woken from the first
 * (measured: 0.5 eventfd writes per request at QD32). Here a worker schedules the bottom
 * half only when no schedule is outstanding ({@link #armed}): the bottom half disarms
 * before its take of the stack and again at its end, where it schedules itself if
 * anything was pushed meanwhile; one pushed after that last disarm arms and schedules
 * again.
 */
final class Completions {
    private static final VarHandle ARMED;

    static {
        try {
            ARMED = MethodHandles.lookup().findVarHandle(Completions.class, "armed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** True from a worker's schedule until the bottom half starts taking the stack. */
    @SuppressWarnings("unused")
    private volatile boolean armed;
    private final FinishedStack finished = new FinishedStack();
    /** home: finished, newest submission first. */
    private final PriorityQueue<Request<?>> ready = new PriorityQueue<>(16, (a, b) -> Long.compare(b.seq, a.seq));
    private final BottomHalf bh;
    private final Runnable onDeliver;
    /** home: set by close; a bottom half run that is under way stops after its callback. */
    private boolean stopped;

    /**
     * @param onDeliver runs just before each completion (the pool's in-flight count)
     */
    Completions(AioContext ctx, Runnable onDeliver) {
        this.onDeliver = onDeliver;
        this.bh = ctx.newBottomHalf("thread-pool-completion", this::deliverFromBh);
    }

    /** Any thread: a request reached DONE; delivery follows in the home thread. */
    void finished(Request<?> r) {
        push(r);
        // After the push (both volatile, so in one total order with the bottom half's
        // disarms and take): if armed was already true, a disarm comes later and the take
        // or the end-of-run look after it sees r; otherwise this schedule runs the bottom
        // half again. A bottom half that cancelled this schedule looks again at its end.
        if (!(boolean) ARMED.getAndSet(this, true)) {
            bh.schedule();
        }
    }

    /** Any thread: queues r without scheduling (close delivers it itself). */
    void push(Request<?> r) {
        finished.push(r);
    }

    private Request<?> next() {
        take();
        return ready.poll();
    }

    /**
     * Moves what the workers have finished into {@link #ready}. Disarmed before every
     * take: a worker that found armed set pushed before this store, so this take or an
     * earlier one has its request; one that finds it clear schedules again.
     */
    private void take() {
        ARMED.setVolatile(this, false);
        Request<?> r = finished.takeAll();
        while (r != null) {
            Request<?> n = r.doneNext;
            r.doneNext = null;
            ready.add(r);
            r = n;
        }
    }

    /**
     * The bottom half: home thread, possibly nested in one of its own completions.
     *
     * <p>One run delivers what had finished when it began, and leaves what finishes
     * meanwhile to the next iteration. Taking the stack again after each completion (as
     * QEMU's {@code thread_pool_completion_bh} in {@code util/thread-pool.c} walks its
     * list again) held the loop while completions resubmit at once: workers finish a
     * cached read in microseconds, so the stack refilled nearly as fast as it drained,
     * and other bottom halves waited up to seconds.
     */
    private void deliverFromBh() {
        take();
        // What is there now, at most: a nested run delivers from the same heap, so fewer
        // may be left when it returns.
        for (int left = ready.size(); left > 0 && !stopped; left--) {
            Request<?> r = ready.poll();
            if (r == null) {
                break; // a nested run delivered the rest
            }
            bh.schedule();
            onDeliver.run();
            r.deliver(); // if it throws, the loop reports it and the schedule above runs the rest
            if (!stopped) {
                bh.cancel();
            }
        }
        if (stopped) {
            return;
        }
        // The cancels above may have removed a worker's schedule: disarm, then look. A
        // push this misses comes after the disarm, so its worker finds armed clear and
        // schedules the bottom half itself. Either way the rest runs at the next
        // iteration (a bottom half scheduled from a bottom half waits for the next
        // aio_bh_poll: QEMU's BH slices, util/async.c).
        ARMED.setVolatile(this, false);
        if (!ready.isEmpty() || finished.hasAny()) {
            bh.schedule();
        }
    }

    /**
     * Close: stops the bottom half and delivers everything left in the calling thread.
     * Called once the workers have ended, so nothing is pushed any more.
     *
     * @return the first exception a completion threw (later ones suppressed), or null
     */
    Throwable close() {
        stopped = true;
        Throwable first = null;
        Request<?> r;
        while ((r = next()) != null) {
            onDeliver.run();
            try {
                r.deliver();
            } catch (Throwable t) {
                if (first == null) {
                    first = t;
                } else {
                    first.addSuppressed(t);
                }
            }
        }
        WorkerPool.deleteQuietly(bh);
        return first;
    }
}
