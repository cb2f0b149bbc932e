package org.aiolos.linuxaio;

import org.aiolos.api.AioContext;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.linux.Errno;
import org.aiolos.linux.EventFd;
import org.aiolos.linux.IoEventArray;
import org.aiolos.linux.IocbArray;
import org.aiolos.linux.LinuxAio;
import org.aiolos.linux.SyscallException;
import org.aiolos.linux.UserRing;
import org.aiolos.diskio.CompletionQueue;
import org.aiolos.diskio.DiskEngineBase;
import org.aiolos.diskio.DiskRequest;
import org.aiolos.diskio.DiskRequestPool;
import org.aiolos.diskio.SubmitPolicy;
import org.aiolos.diskio.IdQueue;

/**
 * The {@code native} engine (QEMU's {@code block/linux-aio.c}): one kernel AIO context of
 * {@value #MAX_EVENTS}
 * events per AioContext. Each iocb carries {@code IOCB_FLAG_RESFD}, so the kernel
 * signals an eventfd registered in the context; its poll callback peeks the user-space
 * completion ring, so busy polling notices completions without a system call. A pass
 * reaps the ring once: what completes meanwhile waits for the next iteration.
 *
 * <p>Requests wait in {@code pending} and go to {@code io_submit} in batches of at most
 * the context's aio-max-batch (32 by default): at once when a batch is full or when the
 * device has fewer requests in flight than are waiting ({@link SubmitPolicy}), otherwise
 * from a bottom half at the end of the loop iteration (QEMU's {@code defer_call}). An
 * {@code EAGAIN} from {@code io_submit} leaves them queued for the next completion (or, with
 * nothing in flight, the next iteration). Iocb {@code i} belongs to request id {@code i},
 * and the id is the iocb's user data.
 *
 * <p>Home thread only: every field is touched by the home thread alone.
 */
final class LinuxAioEngine extends DiskEngineBase {
    /** io_setup depth (QEMU MAX_EVENTS, raised from 128 in 2020). */
    static final int MAX_EVENTS = 1024;
    /** Requests accepted at once: the kernel's depth plus as many waiting in the queue. */
    static final int CAPACITY = 4 * MAX_EVENTS;

    private final long aioCtx;
    private final EventFd notifier;
    private final IocbArray iocbs;
    private final IoEventArray events;
    private final IdQueue pending;
    /** Requests whose submission failed: completed from {@link #doneBh}, never inside the submitting call. */
    private final IdQueue failed;
    private final BottomHalf submitBh;
    private final BottomHalf doneBh;
    /** Runs a pass while one is under way with completions left (for a nested loop in a callback). */
    private final BottomHalf completionBh;
    /** Reaped, not yet run: shared by a pass and the passes nested in its callbacks. */
    private final CompletionQueue reaped;
    /** Iocbs the kernel holds. */
    private int kernelInFlight;
    /** Completion passes under way: more than one while a callback runs the loop. */
    private int passDepth;

    LinuxAioEngine(AioContext ctx, long aioCtx, EventFd notifier) {
        super(ctx, CAPACITY);
        this.aioCtx = aioCtx;
        this.notifier = notifier;
        this.iocbs = new IocbArray(CAPACITY);
        this.events = new IoEventArray(MAX_EVENTS);
        this.pending = new IdQueue(CAPACITY);
        this.failed = new IdQueue(CAPACITY);
        this.submitBh = ctx.newBottomHalf("linux-aio submit", this::submitPending);
        this.doneBh = ctx.newBottomHalf("linux-aio failed submissions", this::completeFailed);
        this.completionBh = ctx.newBottomHalf("linux-aio completions", this::processCompletions);
        this.reaped = new CompletionQueue(CAPACITY, completionBh);
        ctx.setEventNotifier(notifier, this::onNotified, this::hasCompletions, this::onPollReady);
    }

    @Override
    public String name() {
        return DiskIoEngineFactory.NATIVE;
    }

    // ------------------------------------------------------------------ submission

    @Override
    protected void start(DiskRequest r) {
        prepare(r);
        pending.add(r.id());
        // Completions reaped but not yet run count as in flight: their callbacks are still to
        // submit, and holding for them keeps the batch (as when each was counted until it ran).
        if (pending.size() >= maxBatch() || SubmitPolicy.submitNow(pending.size(), kernelInFlight + reaped.size(), 1)) {
            submitPending();
        } else {
            submitBh.schedule();
        }
    }

    /**
     * aio-max-batch (32 when 0), never more than the kernel has room for (QEMU's
     * {@code laio_max_batch}).
     */
    private int maxBatch() {
        long b = ctx.aioMaxBatch();
        int batch = b == 0 ? DEFAULT_MAX_BATCH : (int) Math.min(b, MAX_EVENTS);
        int room = MAX_EVENTS - kernelInFlight;
        return room > 0 ? Math.min(batch, room) : batch;
    }

    private void prepare(DiskRequest r) {
        int id = r.id();
        switch (r.kind()) {
            case READ -> iocbs.prepPreadv(id, r.fd(), r.iovAddress(), r.iovCount(), r.position(), id, 0);
            case WRITE -> iocbs.prepPwritev(id, r.fd(), r.iovAddress(), r.iovCount(), r.position(), id,
                    r.fua() ? IocbArray.RWF_DSYNC : 0);
            case FLUSH -> iocbs.prepFdsync(id, r.fd(), id);
        }
        iocbs.setResfd(id, notifier.fd());
    }

    /** QEMU ioq_submit, without its opportunistic reaping (completions never run inside a submit). */
    private void submitPending() {
        while (!pending.isEmpty() && kernelInFlight < MAX_EVENTS) {
            int n = Math.min(pending.size(), MAX_EVENTS - kernelInFlight);
            for (int k = 0; k < n; k++) {
                iocbs.setPointer(k, pending.peek(k));
            }
            int done;
            try {
                done = LinuxAio.submit(aioCtx, n, iocbs.pointers());
            } catch (SyscallException e) {
                // The kernel refused the first iocb (EBADF, EINVAL...): it fails, the rest go on.
                int id = pending.poll();
                requests.get(id).onResult(-e.errno());
                failed.add(id);
                doneBh.schedule();
                continue;
            }
            if (done == -Errno.EAGAIN) {
                break; // the kernel is out of room: stay queued
            }
            pending.drop(done);
            kernelInFlight += done;
            if (done < n) {
                break;
            }
        }
        if (pending.isEmpty()) {
            // Submitted early (full batch, or after completions): a still-scheduled submit
            // bottom half would only cost the loop an extra non-blocking iteration.
            submitBh.cancel();
        } else if (kernelInFlight == 0) {
            // Nothing in flight will signal the eventfd: retry on the next iteration.
            submitBh.schedule();
        }
    }

    private void completeFailed() {
        Throwable failure = null;
        while (!failed.isEmpty()) {
            failure = requests.finish(requests.get(failed.poll()), failure);
        }
        DiskRequestPool.rethrow(failure);
    }

    // ------------------------------------------------------------------ completion

    private boolean hasCompletions() {
        return UserRing.hasEvents(aioCtx);
    }

    private void onNotified() {
        notifier.testAndClear();
        processCompletions();
    }

    private void onPollReady() {
        processCompletions();
    }

    /**
     * A pass: first what an outer pass reaped and has not run yet (when this one is nested
     * in one of its callbacks), then one reap of the ring and its completions. Requests
     * the callbacks submit complete in a later pass: reaping until the ring was empty
     * never ended when callbacks resubmit at once, since a cached buffered read completes
     * inside io_submit and the ring refilled as fast as it drained (no bottom half, timer
     * or other handler ran again). QEMU's loop in {@code qemu_laio_process_completions}
     * ({@code block/linux-aio.c}) ends because its callbacks' submissions wait for
     * {@code defer_call_end}; ours may go at once ({@code SubmitPolicy}).
     *
     * <p>The eventfd was cleared before this pass reaps (by {@link #onNotified}, here or in
     * the outer pass), so whatever completes after the reap signals again and the next
     * iteration takes it.
     */
    private void processCompletions() {
        if (isClosed() && kernelInFlight == 0 && reaped.isEmpty()) {
            return;
        }
        passDepth++;
        Throwable failure;
        try {
            failure = reaped.runAll(completer, null);
            int n = UserRing.reap(aioCtx, events, MAX_EVENTS);
            for (int i = 0; i < n; i++) {
                reaped.add((int) events.data(i), events.res(i));
            }
            kernelInFlight -= n;
            failure = reaped.runAll(completer, failure);
        } finally {
            passDepth--;
        }
        if (!pending.isEmpty()) {
            submitPending();
        }
        DiskRequestPool.rethrow(failure);
    }

    /** Held once: a method reference made per pass would allocate on the hot path. */
    private final CompletionQueue.Handler completer = this::complete;

    /** A finished request completes, a short one goes back to the queue. */
    private Throwable complete(int id, long res, Throwable failure) {
        DiskRequest r = requests.get(id);
        if (r.onResult(res)) {
            return requests.finish(r, failure);
        }
        prepare(r);
        pending.add(id);
        return failure;
    }

    @Override
    public int inFlight() {
        return requests.inUse();
    }

    // ------------------------------------------------------------------ close

    @Override
    public void close() {
        if (isClosed()) {
            return;
        }
        // From the home thread, or any thread once the loop has stopped (the context's close).
        if (passDepth > 0) {
            throw new IllegalStateException("the native engine of '" + ctx.name()
                    + "' cannot be closed from one of its completions");
        }
        markClosed();
        Throwable failure = null;
        try {
            passDepth++;
            // Drain: everything queued is submitted, everything submitted is waited for,
            // and every completion runs, so closing loses none.
            while (true) {
                submitPending();
                while (!failed.isEmpty()) {
                    failure = requests.finish(requests.get(failed.poll()), failure);
                }
                if (kernelInFlight == 0 && pending.isEmpty()) {
                    break;
                }
                if (kernelInFlight == 0) {
                    continue; // EAGAIN with nothing in flight: retry the submission
                }
                int n = LinuxAio.getEvents(aioCtx, 1, Math.min(kernelInFlight, MAX_EVENTS), events, -1);
                for (int i = 0; i < n; i++) {
                    reaped.add((int) events.data(i), events.res(i));
                }
                kernelInFlight -= Math.max(n, 0);
                failure = reaped.runAll(completer, failure);
            }
        } finally {
            passDepth--;
            release();
        }
        DiskRequestPool.rethrow(failure);
    }

    private void release() {
        ctx.setEventNotifier(notifier, null, null, null);
        submitBh.delete();
        doneBh.delete();
        completionBh.delete();
        notifier.close();
        try {
            LinuxAio.destroy(aioCtx);
        } finally {
            iocbs.close();
            events.close();
            requests.close();
        }
    }
}
