package org.aiolos.diskio.iouring;

import org.aiolos.api.AioContext;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.linux.Errno;
import org.aiolos.linux.IoUring;
import org.aiolos.linux.IocbArray;
import org.aiolos.linux.SharedIoUring;
import org.aiolos.diskio.CompletionQueue;
import org.aiolos.diskio.DiskEngineBase;
import org.aiolos.diskio.DiskRequest;
import org.aiolos.diskio.DiskRequestPool;
import org.aiolos.diskio.IdQueue;
import org.aiolos.diskio.SubmitPolicy;

/**
 * The {@code io_uring} engine (QEMU's {@code block/io_uring.c}): READV / WRITEV /
 * FSYNC(DATASYNC) on one of two rings.
 *
 * <p><b>The monitor's ring</b> when the context's fd monitor is io_uring (QEMU 10.2's
 * {@code aio_add_sqe}): the engine leases the monitor's ring ({@link SharedIoUring}) and
 * queues its SQEs there; the monitor's next wait submits them with its own polls and
 * sleeps in the same {@code io_uring_enter}, so a request costs no system call of its
 * own, unless the device has fewer requests than the engine holds there (then the batch,
 * from 4 requests, goes at once: {@link SubmitPolicy}). The monitor keeps the completions it reaps and hands them over in its dispatch,
 * right after the wait, where the engine runs them (never inside the wait, and with no
 * bottom half: one scheduled during the wait would cost an eventfd write). The ring is
 * looked up at each submission, so after a monitor swap the next request goes to the new
 * monitor's ring, or to the private ring when the new monitor is poll or epoll; the old monitor hands over everything it was lent before
 * it closes ({@link SharedIoUring#drain}), so a swap loses nothing.
 *
 * <p><b>A private ring</b> otherwise (QEMU before 10.2), whose descriptor is registered in
 * the context as an fd handler (readable when the CQ holds completions; its poll callback
 * reads the CQ tail, no syscall). It stays open for the engine's life: requests submitted
 * on it before a swap to an io_uring monitor complete there.
 *
 * <p><b>Submission.</b> On the monitor's ring a request becomes an SQE at once (the
 * monitor's next wait submits everything queued). On the private ring requests wait in
 * {@code pending} and are turned into SQEs in batches of at most aio-max-batch (32 by
 * default), at once when a batch is full or the device holds fewer than are waiting
 * ({@link SubmitPolicy}), otherwise from a bottom half at the end of the loop iteration. A full SQ is submitted
 * before taking more SQEs; {@code EBUSY}/{@code EAGAIN} from {@code io_uring_enter} (the
 * kernel is backed up on completions) leaves the SQEs in the ring, retried after the next
 * completions are reaped.
 *
 * <p><b>Completion.</b> The CQ is copied out and released before completions run (so a
 * completion may submit). Short transfers and EINTR/EAGAIN go back to {@code pending}.
 * The ring is set up with {@code IORING_FEAT_NODROP}: completions that do not fit in the CQ
 * are held by the kernel ({@code IORING_SQ_CQ_OVERFLOW}) and flushed into the CQ once it
 * has been drained.
 *
 * <p>Home thread only.
 */
public final class IoUringEngine extends DiskEngineBase {
    /** SQ entries (the CQ gets twice as many), as QEMU's pre-10.2 private ring. */
    static final int ENTRIES = 128;
    /** Requests accepted at once. */
    static final int CAPACITY = 4096;

    private final IoUring ring;
    /** The lent ring in use, or null (the private ring). */
    private SharedIoUring shared;
    private SharedIoUring.Lease lease;
    /**
     * Completions taken from either ring (reaped here, or handed over by the monitor) and
     * not yet run; shared by a pass and the passes nested in its callbacks.
     */
    private final CompletionQueue done;
    /** Runs a pass: for completions the monitor handed over outside its dispatch, and for a nested loop. */
    private final BottomHalf completionBh;
    private long lentSubmissions;
    /** Batches on the monitor's ring submitted before its wait ({@link SubmitPolicy}). */
    private long lentEarlySubmits;
    /** On the monitor's ring a batch this small waits for the wait, which submits it for free. */
    static final int LENT_EARLY_BATCH = 4;
    /** Times the monitor handed completions over outside its dispatch (its close, at a swap). */
    private long handedOverAtSwap;
    private long privateSubmissions;
    private final IdQueue pending = new IdQueue(CAPACITY);
    private final BottomHalf submitBh;
    /** SQEs handed to the kernel whose CQE has not been reaped. */
    private int kernelInFlight;
    /** Completion passes under way: more than one while a callback runs the loop. */
    private int passDepth;
    private long sqFullSubmits;
    private long overflowFlushes;

    /** Whether the engine may lease the monitor's ring (a diagnostic switch: see {@link IoUringEngineFactory}). */
    private final boolean mayLease;

    IoUringEngine(AioContext ctx, IoUring ring, boolean mayLease) {
        super(ctx, CAPACITY);
        this.ring = ring;
        this.mayLease = mayLease;
        this.submitBh = ctx.newBottomHalf("io_uring engine submit", this::submitPending);
        this.completionBh = ctx.newBottomHalf("io_uring engine completions", this::onReadable);
        this.done = new CompletionQueue(CAPACITY, completionBh);
        ctx.setFdHandler(ring.fd(), this::onReadable, null, this::hasCompletions, this::onReadable);
    }

    @Override
    public String name() {
        return DiskIoEngineFactory.IO_URING;
    }

    // ------------------------------------------------------------------ submission

    @Override
    protected void start(DiskRequest r) {
        if (pending.isEmpty()) {
            SharedIoUring lent = lentRing();
            if (lent != null) {
                // Straight into the monitor's SQ (QEMU 10.2's luring_co_submit -> aio_add_sqe):
                // the loop's next wait submits it with whatever else is queued, so there is
                // nothing to batch and no bottom half to schedule (a scheduled one would make
                // that wait non-blocking, and cost an io_uring_enter of its own).
                long sqe = lent.sqe();
                if (sqe >= 0) {
                    prepare(lent.ring(), sqe, r, lease.userData(r.id()));
                    lease.queued();
                    lentSubmissions++;
                    // An idle device gets a batch now rather than at the next wait; small
                    // batches wait for it (that wait submits them at no extra system call).
                    int held = lent.ring().sqPending();
                    if (SubmitPolicy.submitNow(held, lease.outstanding() - held, LENT_EARLY_BATCH)) {
                        lent.submitNow();
                        lentEarlySubmits++;
                    }
                    return;
                }
            }
        }
        pending.add(r.id());
        long b = ctx.aioMaxBatch();
        int maxBatch = b == 0 ? DEFAULT_MAX_BATCH : (int) Math.min(b, CAPACITY);
        // Completions reaped but not yet run count as in flight: their callbacks are still to
        // submit, and holding for them keeps the batch (as when each was counted until it ran).
        if (pending.size() >= maxBatch || SubmitPolicy.submitNow(pending.size(), kernelInFlight + done.size(), 1)) {
            submitPending();
        } else {
            submitBh.schedule();
        }
    }

    private static void prepare(IoUring on, long sqe, DiskRequest r, long userData) {
        switch (r.kind()) {
            case READ -> on.prepReadv(sqe, r.fd(), r.iovAddress(), r.iovCount(), r.position(), 0, userData);
            case WRITE -> on.prepWritev(sqe, r.fd(), r.iovAddress(), r.iovCount(), r.position(),
                    r.fua() ? IocbArray.RWF_DSYNC : 0, userData);
            case FLUSH -> on.prepFsync(sqe, r.fd(), IoUring.IORING_FSYNC_DATASYNC, userData);
        }
    }

    /**
     * The monitor's ring when the context's monitor lends one (leased on first use, and
     * again after a swap), else null. Home thread; called per batch.
     */
    private SharedIoUring lentRing() {
        SharedIoUring now = isClosed() || !mayLease ? null : ctx.fdMonitorFacet(SharedIoUring.class);
        if (now != shared || (lease != null && !lease.valid())) {
            if (lease != null && lease.valid()) {
                shared.detach(lease); // hands over what it still holds first
            }
            shared = null;
            lease = null;
            if (now != null) {
                try {
                    lease = now.attach(lentDone);
                    shared = now;
                } catch (IllegalStateException full) {
                    // no room on the monitor's ring: stay on the private one
                }
            }
        }
        return shared;
    }

    /** Moves pending requests into SQEs: onto the monitor's ring (its next wait submits them), else the private ring. */
    private void submitPending() {
        SharedIoUring lent = lentRing();
        if (lent != null) {
            queueLent(lent);
            if (ring.sqPending() > 0) {
                enter(); // leftovers on the private ring from before the swap
            }
            return;
        }
        submitPrivate();
    }

    private void queueLent(SharedIoUring lent) {
        IoUring on = lent.ring();
        while (!pending.isEmpty()) {
            long sqe = lent.sqe();
            if (sqe < 0) {
                // The kernel takes no more now: retried when lent completions come back, or
                // from the bottom half when none is outstanding.
                if (lease.outstanding() == 0 && done.isEmpty()) {
                    submitBh.schedule();
                }
                return;
            }
            DiskRequest r = requests.get(pending.poll());
            prepare(on, sqe, r, lease.userData(r.id()));
            lease.queued();
            lentSubmissions++;
        }
        // No io_uring_enter here: the monitor's next wait submits the batch with its own SQEs.
        submitBh.cancel();
    }

    /** Where the monitor hands this engine's completions: recorded, then run in its dispatch. */
    private final SharedIoUring.Completions lentDone = new SharedIoUring.Completions() {
        @Override
        public void complete(int id, int res) {
            done.add(id, res);
        }

        @Override
        public void run() {
            runDone();
        }

        @Override
        public void runSoon() {
            if (!done.isEmpty()) {
                handedOverAtSwap++;
                completionBh.schedule();
            }
        }
    };

    /** Runs the completions the monitor handed over; then submits what they queued or retried. */
    private void runDone() {
        passDepth++;
        Throwable failure;
        try {
            failure = done.runAll(completer, null);
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

    /** A finished request completes, a short one is queued again. */
    private Throwable complete(int id, long res, Throwable failure) {
        DiskRequest r = requests.get(id);
        if (r.onResult(res)) {
            return requests.finish(r, failure);
        }
        pending.add(id);
        return failure;
    }

    /** Moves pending requests into SQEs of the private ring and submits them. */
    private void submitPrivate() {
        while (!pending.isEmpty()) {
            long sqe = ring.nextSqe();
            if (sqe < 0) {
                // SQ full: hand what is there to the kernel, then continue (get_sqe in
                // util/fdmon-io_uring.c).
                sqFullSubmits++;
                if (!enter()) {
                    return;
                }
                continue;
            }
            DiskRequest r = requests.get(pending.poll());
            prepare(ring, sqe, r, r.id());
            kernelInFlight++;
            privateSubmissions++;
        }
        if (enter()) {
            // Submitted early (full batch, or after completions): a still-scheduled submit
            // bottom half would only cost the loop an extra non-blocking iteration.
            submitBh.cancel();
        }
    }

    /** Submits the SQEs in the ring; false when the kernel pushed back (retried after reaping). */
    private boolean enter() {
        while (true) {
            int r = ring.submit();
            if (r >= 0) {
                return true;
            }
            if (r == -Errno.EINTR) {
                continue;
            }
            // EBUSY / EAGAIN: completions are backed up. The SQEs stay in the ring; the
            // next completion pass (the ring fd is readable) submits them again. Only with
            // nothing in flight is a retry from the bottom half needed; rescheduling it
            // otherwise would keep the loop from waiting on the ring fd at all.
            if (passDepth == 0 && kernelInFlight == ring.sqPending()) {
                submitBh.schedule();
            }
            return false;
        }
    }

    // ------------------------------------------------------------------ completion

    private boolean hasCompletions() {
        return ring.cqReady() > 0;
    }

    /**
     * A pass: first what an outer pass took and has not run yet (when this one is nested in
     * one of its callbacks, or the monitor handed completions over outside its dispatch),
     * then at most as many CQEs as were in flight when it began: those that were there then
     * come first in the CQ. Requests the callbacks submit complete in a later iteration.
     * Draining until the CQ was empty never ended when callbacks resubmit at once: a cached
     * buffered read completes inside io_uring_enter, so the CQ refilled as fast as it
     * drained and no bottom half, timer or other handler ran again. What is left keeps the
     * ring fd readable (and the poll callback true), so the next iteration takes it.
     */
    private void onReadable() {
        if (isClosed() && kernelInFlight == 0 && done.isEmpty()) {
            return;
        }
        passDepth++;
        Throwable failure;
        try {
            failure = done.runAll(completer, null);
            reap(kernelInFlight);
            if (ring.cqReady() == 0 && ring.cqOverflowFlagged()) {
                overflowFlushes++;
                ring.flushOverflow(); // into the CQ, where the next iteration sees it
            }
            failure = done.runAll(completer, failure);
        } finally {
            passDepth--;
        }
        if (!pending.isEmpty() || ring.sqPending() > 0) {
            submitPending();
        }
        DiskRequestPool.rethrow(failure);
    }

    /**
     * Moves up to {@code limit} completions from the CQ (and the kernel's overflow list)
     * into {@link #done}, oldest first; stops earlier when both are empty.
     */
    private void reap(int limit) {
        while (limit > 0) {
            int n = Math.min(ring.cqReady(), limit);
            if (n == 0) {
                if (!ring.cqOverflowFlagged()) {
                    return;
                }
                overflowFlushes++;
                ring.flushOverflow();
                if (ring.cqReady() == 0) {
                    return;
                }
                continue;
            }
            for (int i = 0; i < n; i++) {
                done.add((int) ring.cqeUserData(i), ring.cqeRes(i));
            }
            ring.cqAdvance(n);
            kernelInFlight -= n;
            limit -= n;
        }
    }

    @Override
    public int inFlight() {
        return requests.inUse();
    }

    /** How often a full SQ had to be submitted before more SQEs could be taken. */
    public long sqFullSubmits() {
        return sqFullSubmits;
    }

    /** How often completions the CQ could not hold were flushed from the kernel's overflow list. */
    public long overflowFlushes() {
        return overflowFlushes;
    }

    /** Requests queued on the fd monitor's ring (each submission of a retried request counts). */
    public long lentSubmissions() {
        return lentSubmissions;
    }

    /** Batches submitted on the monitor's ring before its wait, the device being idle ({@link SubmitPolicy}). */
    public long lentEarlySubmits() {
        return lentEarlySubmits;
    }

    /** Times a monitor handed completions over as it closed (a swap with lent requests outstanding). */
    public long handedOverAtSwap() {
        return handedOverAtSwap;
    }

    /** Requests submitted on the engine's private ring. */
    public long privateSubmissions() {
        return privateSubmissions;
    }

    // ------------------------------------------------------------------ close

    /**
     * Submits what is queued, waits for every request in flight and runs its completion,
     * then closes the ring. From the home thread, or any thread once the loop has stopped.
     */
    @Override
    public void close() {
        if (isClosed()) {
            return;
        }
        if (passDepth > 0) {
            throw new IllegalStateException("the io_uring engine of '" + ctx.name()
                    + "' cannot be closed from one of its completions");
        }
        markClosed();
        Throwable failure = null;
        passDepth++;
        try {
            while (true) {
                submitPending();
                if (lease != null && lease.valid() && lease.outstanding() > 0) {
                    shared.drain(lease); // the monitor submits and hands every completion over
                }
                reap(Integer.MAX_VALUE);
                failure = done.runAll(completer, failure);
                if (kernelInFlight == 0 && pending.isEmpty() && done.isEmpty()
                        && (lease == null || !lease.valid() || lease.outstanding() == 0)) {
                    break;
                }
                if (kernelInFlight == 0) {
                    continue; // only lent requests (or retries) left: go round
                }
                int r = ring.submitAndWait(1);
                if (r < 0 && r != -Errno.EINTR && r != -Errno.EBUSY && r != -Errno.EAGAIN && r != -Errno.ETIME) {
                    throw new IllegalStateException("io_uring_enter failed while draining: " + Errno.describe(-r));
                }
            }
        } finally {
            passDepth--;
            if (lease != null && lease.valid()) {
                try {
                    shared.detach(lease);
                } catch (RuntimeException e) {
                    failure = failure == null ? e : failure;
                }
            }
            lease = null;
            shared = null;
            ctx.removeFdHandler(ring.fd());
            submitBh.delete();
            completionBh.delete();
            ring.close();
            requests.close();
        }
        DiskRequestPool.rethrow(failure);
    }
}
