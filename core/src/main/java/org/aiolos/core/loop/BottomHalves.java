package org.aiolos.core.loop;

import java.util.List;
import org.aiolos.api.ReentrancyGuard;

/**
 * A context's bottom halves: QEMU's BH half of {@code util/async.c} ({@code aio_bh_enqueue},
 * {@code aio_bh_poll} with its slices, and the BH part of {@code aio_compute_timeout}).
 *
 * <p>Scheduling is lock-free from any thread ({@link BhList}, whose orderings the jcstress
 * module checks); running and scanning belong to the home thread. One scan of the queue and
 * the active slices answers every question the loop asks of it ({@link #scan}).
 */
final class BottomHalves {
    /** A loop with only idle bottom halves sleeps at most this long (QEMU: 10 ms). */
    static final long IDLE_TIMEOUT_NS = 10_000_000L;

    /** What {@link #scan} found, from least to most urgent. */
    static final int NONE = 0;
    static final int IDLE_ONLY = 1;
    static final int BUSY = 2;

    private static final System.Logger LOG = System.getLogger("org.aiolos.core");

    private final BhList queue = new BhList();
    /** home */
    private final BhSlices slices = new BhSlices();
    private final CallbackRunner runner;
    private final LoopStats stats;

    BottomHalves(CallbackRunner runner, LoopStats stats) {
        this.runner = runner;
        this.stats = stats;
    }

    /** QEMU {@code aio_bh_enqueue}: lock-free from any thread; the caller then wakes the loop. */
    void enqueue(BottomHalfImpl bh, int newFlags) {
        queue.enqueue(bh, newFlags);
    }

    /** QEMU {@code aio_bh_poll}: runs the bottom halves enqueued before it started. Home thread. */
    boolean poll() {
        slices.append(queue.takeAll());
        boolean progress = false;
        BottomHalfImpl bh;
        while ((bh = slices.pop()) != null) {
            int old = bh.takeFlags();
            if (BottomHalfImpl.isLive(old)) {
                if ((old & BottomHalfImpl.IDLE) == 0) {
                    progress = true;
                }
                call(bh);
            }
            // DELETED or ONESHOT: it is off every list now and nothing refers to it.
        }
        return progress;
    }

    private void call(BottomHalfImpl bh) {
        stats.bhsRun++;
        ReentrancyGuard guard = bh.guard;
        if (guard == null) {
            runner.run(bh.callback, bh);
            return;
        }
        boolean was = guard.engage(true);
        if (was) {
            LOG.log(System.Logger.Level.TRACE, "reentrant aio: {0}", bh);
        }
        try {
            runner.run(bh.callback, bh);
        } finally {
            guard.engage(was);
        }
    }

    /**
     * The most urgent scheduled, undeleted bottom half: {@link #BUSY} (one that is not idle),
     * {@link #IDLE_ONLY}, or {@link #NONE}. The queue is read from any thread; the slices
     * only where {@code inHome} (another thread sees the home thread's slices racily).
     */
    int scan(boolean inHome) {
        int found = scan(queue.peek(), NONE);
        if (found != BUSY && inHome) {
            for (int i = 0, n = slices.count(); i < n && found != BUSY; i++) {
                found = scan(slices.head(i), found);
            }
        }
        return found;
    }

    private static int scan(BottomHalfImpl first, int found) {
        for (BottomHalfImpl bh = first; bh != null; bh = bh.next) {
            int f = bh.flags();
            if (BottomHalfImpl.isLive(f)) {
                if ((f & BottomHalfImpl.IDLE) == 0) {
                    return BUSY;
                }
                found = IDLE_ONLY;
            }
        }
        return found;
    }

    /** The part of QEMU's {@code aio_compute_timeout} the bottom halves decide: 0, 10 ms or none (-1). */
    long timeoutNs(boolean inHome) {
        return switch (scan(inHome)) {
            case BUSY -> 0;
            case IDLE_ONLY -> IDLE_TIMEOUT_NS;
            default -> -1;
        };
    }

    /** Names the bottom halves that are not deleted, for the context's leak check. */
    void undeleted(List<String> out) {
        for (BottomHalfImpl bh = queue.peek(); bh != null; bh = bh.next) {
            if ((bh.flags() & BottomHalfImpl.DELETED) == 0) {
                out.add("bottom half '" + bh.name + "'");
            }
        }
    }
}
