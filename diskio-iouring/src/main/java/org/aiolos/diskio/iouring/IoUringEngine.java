package org.aiolos.diskio.iouring;

import org.aiolos.api.AioContext;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.linux.Errno;
import org.aiolos.linux.IoUring;
import org.aiolos.linux.IocbArray;
import org.aiolos.diskio.DiskEngineBase;
import org.aiolos.diskio.DiskRequest;
import org.aiolos.diskio.DiskRequestPool;
import org.aiolos.diskio.IdQueue;

/**
 * The {@code io_uring} engine (QEMU's {@code block/io_uring.c}): READV / WRITEV /
 * FSYNC(DATASYNC) on a ring of
 * its own, whose descriptor is registered in the context as an fd handler (readable when
 * the CQ holds completions; its poll callback reads the CQ tail, no syscall). QEMU 10.2
 * shares the fd monitor's ring instead; a private ring (QEMU before 10.2) makes the
 * engine independent of which fd monitor the context runs, at the cost of one more
 * descriptor in the monitor.
 *
 * <p><b>Submission.</b> Requests wait in {@code pending} and are turned into SQEs in
 * batches of at most aio-max-batch (32 by default), at once when a batch is full,
 * otherwise from a bottom half at the end of the loop iteration. A full SQ is submitted
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
    private final IdQueue pending = new IdQueue(CAPACITY);
    private final long[] cqeData;
    private final int[] cqeRes;
    private final BottomHalf submitBh;
    /** SQEs handed to the kernel whose CQE has not been reaped. */
    private int kernelInFlight;
    private boolean processing;
    private long sqFullSubmits;
    private long overflowFlushes;

    IoUringEngine(AioContext ctx, IoUring ring) {
        super(ctx, CAPACITY);
        this.ring = ring;
        this.cqeData = new long[ring.cqEntries()];
        this.cqeRes = new int[ring.cqEntries()];
        this.submitBh = ctx.newBottomHalf("io_uring engine submit", this::submitPending);
        ctx.setFdHandler(ring.fd(), this::onReadable, null, this::hasCompletions, this::onReadable);
    }

    @Override
    public String name() {
        return DiskIoEngineFactory.IO_URING;
    }

    // ------------------------------------------------------------------ submission

    @Override
    protected void start(DiskRequest r) {
        pending.add(r.id());
        long b = ctx.aioMaxBatch();
        int maxBatch = b == 0 ? DEFAULT_MAX_BATCH : (int) Math.min(b, CAPACITY);
        if (pending.size() >= maxBatch) {
            submitPending();
        } else {
            submitBh.schedule();
        }
    }

    private void prepare(long sqe, DiskRequest r) {
        int id = r.id();
        switch (r.kind()) {
            case READ -> ring.prepReadv(sqe, r.fd(), r.iovAddress(), r.iovCount(), r.position(), 0, id);
            case WRITE -> ring.prepWritev(sqe, r.fd(), r.iovAddress(), r.iovCount(), r.position(),
                    r.fua() ? IocbArray.RWF_DSYNC : 0, id);
            case FLUSH -> ring.prepFsync(sqe, r.fd(), IoUring.IORING_FSYNC_DATASYNC, id);
        }
    }

    /** Moves pending requests into SQEs and submits them. */
    private void submitPending() {
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
            prepare(sqe, requests.get(pending.poll()));
            kernelInFlight++;
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
            if (!processing && kernelInFlight == ring.sqPending()) {
                submitBh.schedule();
            }
            return false;
        }
    }

    // ------------------------------------------------------------------ completion

    private boolean hasCompletions() {
        return ring.cqReady() > 0;
    }

    private void onReadable() {
        if (processing || isClosed() && kernelInFlight == 0) {
            return;
        }
        processing = true;
        Throwable failure;
        try {
            failure = reap(null);
        } finally {
            processing = false;
        }
        if (!pending.isEmpty() || ring.sqPending() > 0) {
            submitPending();
        }
        DiskRequestPool.rethrow(failure);
    }

    /** Drains the CQ (and the kernel's overflow list) and handles every completion. */
    private Throwable reap(Throwable failure) {
        while (true) {
            int n = Math.min(ring.cqReady(), cqeData.length);
            if (n == 0) {
                if (!ring.cqOverflowFlagged()) {
                    return failure;
                }
                overflowFlushes++;
                ring.flushOverflow();
                if (ring.cqReady() == 0) {
                    return failure;
                }
                continue;
            }
            for (int i = 0; i < n; i++) {
                cqeData[i] = ring.cqeUserData(i);
                cqeRes[i] = ring.cqeRes(i);
            }
            ring.cqAdvance(n);
            for (int i = 0; i < n; i++) {
                kernelInFlight--;
                DiskRequest r = requests.get((int) cqeData[i]);
                if (r.onResult(cqeRes[i])) {
                    failure = requests.finish(r, failure);
                } else {
                    pending.add(r.id());
                }
            }
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
        if (processing) {
            throw new IllegalStateException("the io_uring engine of '" + ctx.name()
                    + "' cannot be closed from one of its completions");
        }
        markClosed();
        Throwable failure = null;
        processing = true;
        try {
            while (true) {
                submitPending();
                failure = reap(failure);
                if (kernelInFlight == 0 && pending.isEmpty()) {
                    break;
                }
                int r = ring.submitAndWait(1);
                if (r < 0 && r != -Errno.EINTR && r != -Errno.EBUSY && r != -Errno.EAGAIN && r != -Errno.ETIME) {
                    throw new IllegalStateException("io_uring_enter failed while draining: " + Errno.describe(-r));
                }
            }
        } finally {
            processing = false;
            ctx.removeFdHandler(ring.fd());
            submitBh.delete();
            ring.close();
            requests.close();
        }
        DiskRequestPool.rethrow(failure);
    }
}
