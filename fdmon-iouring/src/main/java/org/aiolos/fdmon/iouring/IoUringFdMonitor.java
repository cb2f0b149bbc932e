package org.aiolos.fdmon.iouring;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.aiolos.api.FdEvents;
import org.aiolos.api.PollFd;
import org.aiolos.api.fdmon.FdMonitor;
import org.aiolos.api.fdmon.FdMonitorHost;
import org.aiolos.api.fdmon.FdWatch;
import org.aiolos.api.fdmon.ReadyList;
import org.aiolos.linux.Errno;
import org.aiolos.linux.IoUring;
import org.aiolos.linux.SharedIoUring;

/**
 * Waits with io_uring (QEMU {@code util/fdmon-io_uring.c}): each watch has one one-shot
 * {@code POLL_ADD} in the kernel, re-armed with the watch's current events after every
 * completion. Multishot polls are never used: the API is level-triggered, and re-arming a
 * one-shot poll on a still-ready fd completes again at once, which is exactly that.
 *
 * <p>Threads: {@link #update} runs on any thread and only records the change on a
 * lock-free {@link SubmitList}; the ring is touched by the home thread alone, which writes
 * the queued changes as SQEs at the start of each {@link #wait}.
 *
 * <p>Kernel user data is the watch's registration id (slot and generation), never an fd or
 * a pointer. Internal requests (the wait's TIMEOUT, POLL_REMOVEs) carry {@link #IGNORE},
 * which no id can equal (its slot half would be negative). A retired watch's record stays
 * until the kernel has posted the completion of its last POLL_ADD (the cancelled poll, or
 * the one that fired first), so no completion ever names a forgotten id.
 *
 * <p><b>A lent ring</b> ({@link SharedIoUring}, QEMU 10.2's {@code aio_add_sqe}): the
 * io_uring disk engine of the same context queues its SQEs here, with user data
 * {@link #LENT} | lease index &lt;&lt; 32 | request id (registration ids never have bit 62 set:
 * their slot half stays far below 2^30). The next wait submits them with the monitor's
 * own in one {@code io_uring_enter}; {@link #needWait()} is true while any SQE waits in
 * the SQ, so a busy-polling loop does not hold them back. The reap keeps their
 * completions; {@link #dispatch()} (QEMU's {@code fdmon_io_uring_dispatch}) hands them to
 * the leases' {@link SharedIoUring.Completions} and runs them, after the wait and before
 * bottom halves. {@link #close()} first submits and waits for every lent request still
 * outstanding and hands those completions over, so a monitor swap or a context closing
 * loses none.
 */
final class IoUringFdMonitor implements FdMonitor, SharedIoUring {
    /** QEMU's FDMON_IO_URING_ENTRIES. */
    static final int ENTRIES = 128;
    /** User data of completions nobody waits for: TIMEOUT and POLL_REMOVE. */
    static final long IGNORE = -1L;
    /** Marks the user data of a lent SQE. */
    static final long LENT = 1L << 62;
    /** Borrowers at once (an engine per context, plus those exports open for themselves). */
    static final int MAX_LEASES = 64;

    private final FdMonitorHost host;
    private final IoUring ring;
    private final SubmitList submitList = new SubmitList();
    /** The record of each live watch, for update(old, ...). Guarded by this. */
    private final Map<FdWatch, PollRegistration> registered = new IdentityHashMap<>();
    private boolean updatesClosed;

    // home thread
    private final RegistrationTable table = new RegistrationTable();
    private final PollFd externalFd;
    private final List<PollFd> externalFds;
    private boolean closed;
    /**
     * The thread that last waited on the ring: the kernel's submitter of its polls. Written
     * in the home thread; read by {@link #update} in any thread, where a stale value only
     * skips {@link #releaseNow} (a reference is read whole).
     */
    private Thread submitter;
    private static final int SYNC_CANCEL_BY_FD = 2;
    private static final int SYNC_CANCEL_BY_ID = 1;
    private static final int SYNC_CANCEL_NONE = 0;
    /** Which synchronous cancellation this kernel has; lowered on EINVAL, never raised. */
    private int syncCancelKeys = SYNC_CANCEL_BY_FD;
    /** Submits forced by a full SQ, and CQ overflow flushes: counters for tests and diagnostics. */
    private long forcedSubmits;
    private long overflowFlushes;
    /** Borrowers by lease index; home thread. */
    private final LeaseImpl[] leases = new LeaseImpl[MAX_LEASES];
    /** Lent SQEs whose completion was handed over: a counter for tests and diagnostics. */
    private long lentCompletions;
    /** Lent completions reaped and not yet handed over: user data and result; [donePos, doneCount). */
    private long[] doneData = new long[256];
    private int[] doneRes = new int[256];
    private int doneCount;
    private int donePos;
    /** Leases that received completions in the current hand-over. */
    private final boolean[] touched = new boolean[MAX_LEASES];

    /** One borrower's lease: its index in the user data and its outstanding count. Home thread. */
    private final class LeaseImpl implements Lease {
        final int index;
        final Completions completions;
        final long base;
        int outstanding;
        boolean valid = true;

        LeaseImpl(int index, Completions completions) {
            this.index = index;
            this.completions = completions;
            this.base = LENT | (long) index << 32;
        }

        @Override
        public long userData(int id) {
            return base | (id & 0xffff_ffffL);
        }

        @Override
        public void queued() {
            outstanding++;
        }

        @Override
        public int outstanding() {
            return outstanding;
        }

        @Override
        public boolean valid() {
            return valid;
        }

        @Override
        public String toString() {
            return "lease " + index + " of " + IoUringFdMonitor.this + " (" + outstanding + " outstanding)";
        }
    }

    IoUringFdMonitor(FdMonitorHost host, IoUring ring) {
        this.host = host;
        this.ring = ring;
        this.externalFd = new PollFd(ring.fd(), FdEvents.IN);
        this.externalFds = List.of(externalFd);
    }

    @Override
    public String name() {
        return "io_uring";
    }

    @Override
    public synchronized void update(FdWatch oldWatch, FdWatch newWatch) {
        if (updatesClosed) {
            return;
        }
        if (oldWatch != null) {
            PollRegistration r = registered.remove(oldWatch);
            if (r != null) {
                submitList.mark(r, PollRegistration.REMOVE);
                if (newWatch == null) {
                    releaseNow(r);
                }
            }
        }
        if (newWatch != null) {
            PollRegistration r = new PollRegistration(newWatch);
            registered.put(newWatch, r);
            submitList.mark(r, PollRegistration.ADD);
        }
    }

    /**
     * A handler removed for good may have its fd closed right after, and a server that
     * closes its listening socket binds the port again. A POLL_ADD the kernel holds keeps
     * the file, so the REMOVE queued for the next wait would leave the port taken until
     * then. In the submitting thread (the only one whose cancellation completes before it
     * returns), the kernel cancels the polls on the fd's file now, by fd and opcode (Linux
     * 6.6), else by this registration's user data (6.0). A poll of another handler on a
     * dup of the fd is cancelled too and re-armed ({@link #complete}); disk requests lent
     * on the ring are another opcode and stay. Off the hot path: removals only.
     */
    private void releaseNow(PollRegistration r) {
        if (Thread.currentThread() != submitter || syncCancelKeys == SYNC_CANCEL_NONE) {
            return; // another thread: the REMOVE that the loop's next wait submits releases it
        }
        int res;
        if (syncCancelKeys == SYNC_CANCEL_BY_FD) {
            res = ring.cancelSync(IoUring.IORING_ASYNC_CANCEL_FD | IoUring.IORING_ASYNC_CANCEL_OP
                    | IoUring.IORING_ASYNC_CANCEL_ALL, 0, r.watch.fd(), IoUring.IORING_OP_POLL_ADD);
            if (res != -Errno.EINVAL) {
                return; // 0, or -EBADF: the fd was closed before its removal, the REMOVE will do
            }
            syncCancelKeys = SYNC_CANCEL_BY_ID;
        }
        res = ring.cancelSync(IoUring.IORING_ASYNC_CANCEL_USERDATA, r.id, -1, 0);
        if (res == -Errno.EINVAL) {
            syncCancelKeys = SYNC_CANCEL_NONE; // before Linux 6.0: the next wait's REMOVE releases it
        }
    }

    // ---- home thread: writing the ring

    /** QEMU {@code fill_sq_ring}: turns queued changes into SQEs. */
    private void fillSq() {
        PollRegistration next;
        for (PollRegistration r = submitList.takeAll(); r != null; r = next) {
            next = r.nextPending;
            r.nextPending = null; // before the flags are cleared: until then nobody re-pushes r
            int f = r.takeFlags();
            if ((f & PollRegistration.REMOVE) != 0) {
                retire(r);
            } else if ((f & PollRegistration.ADD) != 0) {
                if (!r.inTable) {
                    table.put(r);
                    r.inTable = true;
                }
                if (!r.armed && !r.removing) {
                    arm(r, true);
                }
            }
        }
    }

    private void retire(PollRegistration r) {
        if (!r.inTable) {
            return; // added and removed before the home thread saw it: the kernel never knew it
        }
        r.removing = true;
        if (r.armed) {
            long sqe = sqe0();
            if (sqe < 0) {
                submitList.mark(r, PollRegistration.REMOVE); // SQ still full: next wait
                return;
            }
            ring.prepPollRemove(sqe, r.id, IGNORE);
            // freed when the cancelled (or already fired) POLL_ADD's completion arrives
        } else {
            forget(r);
        }
    }

    private void forget(PollRegistration r) {
        table.remove(r);
        r.inTable = false;
    }

    /**
     * One-shot POLL_ADD with the watch's current events.
     *
     * @param mayForceSubmit whether a full SQ may be submitted now. Not while reaping: the
     *     fds just reported are still ready (their handlers have not run yet), so a poll
     *     submitted then would complete again at once and report readiness the handler is
     *     about to consume, a spurious second dispatch. Deferred to the next wait instead.
     */
    private void arm(PollRegistration r, boolean mayForceSubmit) {
        int events = r.watch.events();
        if (events == 0 || r.watch.isDeleted()) {
            return; // nothing to wait for; a deleted watch's REMOVE is already queued
        }
        long sqe = mayForceSubmit ? sqe0() : ring.nextSqe();
        if (sqe < 0) {
            submitList.mark(r, PollRegistration.ADD); // SQ still full: next wait
            return;
        }
        ring.prepPollAdd(sqe, r.watch.fd(), events, r.id);
        r.armed = true;
    }

    /** QEMU {@code get_sqe}: a free SQE, submitting first when the SQ is full; -1 if the kernel takes none. */
    private long sqe0() {
        long sqe = ring.nextSqe();
        if (sqe >= 0) {
            return sqe;
        }
        forcedSubmits++;
        submit();
        return ring.nextSqe();
    }

    private void submit() {
        int r;
        do {
            r = ring.submit();
        } while (r == -Errno.EINTR);
    }

    // ---- home thread: waiting and reaping

    @Override
    public int wait(ReadyList ready, long timeoutNs) {
        submitter = Thread.currentThread();
        fillSq();
        int waitNr;
        if (timeoutNs == 0 || ring.cqReady() > 0) {
            waitNr = 0; // just look (completions already waiting need no sleep)
        } else if (timeoutNs > 0) {
            long sqe = sqe0();
            if (sqe >= 0) {
                // Completes on the first other completion or at the deadline (-ETIME). Its
                // timespec lives in a per-SQE slot the ring owns, valid until the SQE is reused.
                ring.prepTimeoutNs(sqe, timeoutNs, 1, IGNORE);
                waitNr = 1;
            } else {
                waitNr = 0;
            }
        } else {
            waitNr = 1;
        }
        submitAndWait(waitNr);
        return reap(ready);
    }

    /**
     * Submits and waits for {@code waitNr} completions. A signal may end the syscall with
     * EINTR, or with the count of SQEs it consumed before any completion: both go round.
     */
    private void submitAndWait(int waitNr) {
        int r;
        do {
            r = ring.submitAndWait(waitNr);
        } while (r == -Errno.EINTR || (r >= 0 && ring.cqReady() < waitNr));
        // -EBUSY / -EAGAIN: the kernel cannot take more now; reap and try again next wait.
    }

    /** Processes the completions ready now; returns the number of watches reported. */
    private int reap(ReadyList ready) {
        if (ring.cqOverflowFlagged()) {
            // Completions that did not fit were parked by the kernel (IORING_FEAT_NODROP):
            // bring them into the CQ now so none waits for an unrelated wake-up.
            overflowFlushes++;
            ring.flushOverflow();
        }
        int n = ring.cqReady();
        int reported = 0;
        for (int i = 0; i < n; i++) {
            reported += complete(ready, ring.cqeUserData(i), ring.cqeRes(i));
        }
        ring.cqAdvance(n);
        return reported;
    }

    private int complete(ReadyList ready, long userData, int res) {
        if (userData == IGNORE) {
            return 0;
        }
        if ((userData & LENT) != 0) {
            keep(userData, res);
            return 0;
        }
        PollRegistration r = table.get(userData);
        if (r == null) {
            return 0;
        }
        r.armed = false;
        if (r.removing) {
            forget(r); // the kernel's last completion for this watch
            return 0;
        }
        FdWatch w = host.watch(userData);
        if (w == null || w.isDeleted()) {
            return 0; // retired: its queued REMOVE finds it disarmed and forgets it
        }
        if (res == -Errno.ECANCELED) {
            arm(r, false);
            return 0;
        }
        if (res < 0) {
            // The kernel would not poll the fd (EBADF: closed before the poll was armed).
            // Report it as poll(2) would, and do not re-arm a poll that cannot work.
            ready.add(w, FdEvents.NVAL);
            return 1;
        }
        ready.add(w, res & 0xffff);
        arm(r, false); // one-shot: re-arm with the watch's current events (submitted by the next wait)
        return 1;
    }

    /** A lent SQE completed (in a reap): no longer outstanding; kept for the dispatch. */
    private void keep(long userData, int res) {
        LeaseImpl l = leases[(int) (userData >>> 32) & (MAX_LEASES - 1)];
        if (l == null || l.outstanding == 0) {
            return; // not ours to hand (cannot happen: leases drain before they go)
        }
        l.outstanding--;
        if (doneCount == doneData.length) {
            // Grows only beyond what a burst ever needed before: steady state allocates nothing.
            doneData = java.util.Arrays.copyOf(doneData, doneCount * 2);
            doneRes = java.util.Arrays.copyOf(doneRes, doneCount * 2);
        }
        doneData[doneCount] = userData;
        doneRes[doneCount] = res;
        doneCount++;
    }

    /**
     * Hands the kept completions to their leases; true if there were any. The index is a
     * field so that a nested loop iteration (a completion that polls the context) carries
     * on where this one is, and nothing is handed over twice.
     */
    private boolean handOverKept() {
        if (donePos == doneCount) {
            return false;
        }
        while (donePos < doneCount) {
            long userData = doneData[donePos];
            int res = doneRes[donePos];
            donePos++;
            LeaseImpl l = leases[(int) (userData >>> 32) & (MAX_LEASES - 1)];
            if (l != null) {
                lentCompletions++;
                touched[l.index] = true;
                l.completions.complete((int) userData, res);
            }
        }
        donePos = 0;
        doneCount = 0;
        return true;
    }

    /** QEMU {@code fdmon_io_uring_dispatch}: lent completions are handed over and run here, at a safe point. */
    @Override
    public boolean dispatch() {
        if (!handOverKept()) {
            return false;
        }
        // A borrower's run() runs user callbacks and may throw: every other borrower's
        // completions still run now (a touched flag left set would wait for the next
        // hand-over, which may never come), and the context reports the failure.
        Throwable failure = null;
        for (int i = 0; i < MAX_LEASES; i++) {
            if (touched[i]) {
                touched[i] = false;
                LeaseImpl l = leases[i];
                if (l != null) {
                    try {
                        l.completions.run();
                    } catch (Throwable t) {
                        if (failure == null) {
                            failure = t;
                        } else {
                            failure.addSuppressed(t);
                        }
                    }
                }
            }
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException("a completion on " + this + " failed", failure);
        }
        return true;
    }

    /** Hands kept completions over outside the dispatch: each borrower but {@code except} runs them soon. */
    private void handOverOutsideDispatch(LeaseImpl except) {
        if (!handOverKept()) {
            return;
        }
        for (int i = 0; i < MAX_LEASES; i++) {
            if (touched[i]) {
                touched[i] = false;
                LeaseImpl l = leases[i];
                if (l != null && l != except) {
                    l.completions.runSoon();
                }
            }
        }
    }

    // ---- home thread: the lent ring

    @Override
    public IoUring ring() {
        return ring;
    }

    @Override
    public Lease attach(Completions completions) {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
        for (int i = 0; i < MAX_LEASES; i++) {
            if (leases[i] == null) {
                LeaseImpl l = new LeaseImpl(i, java.util.Objects.requireNonNull(completions, "completions"));
                leases[i] = l;
                return l;
            }
        }
        throw new IllegalStateException(this + " has lent its ring to " + MAX_LEASES + " borrowers already");
    }

    @Override
    public void detach(Lease lease) {
        LeaseImpl l = own(lease);
        if (!l.valid) {
            return;
        }
        drain(l);
        l.valid = false;
        leases[l.index] = null;
    }

    @Override
    public long sqe() {
        if (closed) {
            return -1;
        }
        return sqe0();
    }

    @Override
    public void submitNow() {
        if (!closed) {
            submit();
        }
    }

    @Override
    public void drain(Lease lease) {
        LeaseImpl l = own(lease);
        handOverOutsideDispatch(l);
        while (l.outstanding > 0) {
            int r = ring.submitAndWait(1);
            if (r < 0 && r != -Errno.EINTR && r != -Errno.EBUSY && r != -Errno.EAGAIN) {
                throw new IllegalStateException(this + ": io_uring_enter failed while draining " + l + ": "
                        + Errno.describe(-r));
            }
            reapKeepingPolls();
            handOverOutsideDispatch(l);
        }
    }

    private LeaseImpl own(Lease lease) {
        if (lease instanceof LeaseImpl l && leases[l.index] == l) {
            return l;
        }
        if (lease instanceof LeaseImpl l && !l.valid) {
            return l;
        }
        throw new IllegalArgumentException(lease + " is not a lease of " + this);
    }

    /**
     * Reaps outside a wait (a drain): lent completions are handed over; a poll that fired is
     * disarmed and queued to be armed again by the next wait (one-shot polls are
     * level-triggered: an fd still ready completes again at once, so nothing is lost and
     * nothing is reported twice).
     */
    private void reapKeepingPolls() {
        if (ring.cqOverflowFlagged()) {
            overflowFlushes++;
            ring.flushOverflow();
        }
        int n = ring.cqReady();
        for (int i = 0; i < n; i++) {
            long userData = ring.cqeUserData(i);
            if (userData == IGNORE) {
                continue;
            }
            if ((userData & LENT) != 0) {
                keep(userData, ring.cqeRes(i));
                continue;
            }
            PollRegistration r = table.get(userData);
            if (r == null) {
                continue;
            }
            r.armed = false;
            if (r.removing) {
                forget(r);
            } else {
                submitList.mark(r, PollRegistration.ADD);
            }
        }
        ring.cqAdvance(n);
    }

    /** Lent SQEs whose completions were handed over; for tests. */
    long lentCompletions() {
        return lentCompletions;
    }

    @Override
    public boolean needWait() {
        return ring.cqReady() > 0 || ring.sqPending() > 0 || !submitList.isEmpty() || ring.cqOverflowFlagged()
                || donePos < doneCount;
    }

    @Override
    public boolean supportsUserspacePolling() {
        return true;
    }

    @Override
    public void externalPrepare() {
        submitter = Thread.currentThread();
        fillSq();
        submit();
    }

    @Override
    public boolean ownsDescriptor(int fd) {
        return fd == ring.fd();
    }

    @Override
    public List<PollFd> externalPollFds() {
        return externalFds;
    }

    @Override
    public boolean externalCheck() {
        return (externalFd.revents() & FdEvents.IN) != 0 || ring.cqReady() > 0;
    }

    @Override
    public void externalDispatch(ReadyList ready) {
        externalFd.setRevents(0);
        reap(ready);
    }

    /** Live records, for tests: watches known to the home thread plus retired ones the kernel still holds. */
    int trackedRegistrations() {
        return table.size();
    }

    long forcedSubmits() {
        return forcedSubmits;
    }

    long overflowFlushes() {
        return overflowFlushes;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            updatesClosed = true;
            registered.clear();
        }
        // Lent requests first: they are disk I/O a borrower waits for, not polls. Submit
        // what is queued and hand every completion over before the ring goes.
        try {
            for (LeaseImpl l : leases) {
                if (l != null) {
                    try {
                        drain(l);
                        l.completions.runSoon();
                    } finally {
                        l.valid = false;
                        leases[l.index] = null;
                    }
                }
            }
        } finally {
            if (Thread.currentThread() == submitter && syncCancelKeys != SYNC_CANCEL_NONE) {
                // Every poll ends now, dropping its file, before the ring goes: closing the ring
                // fd cancels them too, but in the kernel's teardown work, after close returned,
                // and a handler moved to the next monitor may be closed and its port bound
                // again before that ran (EADDRINUSE, seen 2 times in 8 runs).
                ring.cancelSync(IoUring.IORING_ASYNC_CANCEL_ANY | IoUring.IORING_ASYNC_CANCEL_ALL, 0, -1, 0);
            }
            closed = true;
            // Closing the ring fd cancels every outstanding poll in the kernel; the mappings
            // and the fd are released here (even when a drain failed), the kernel's own ring
            // memory when its teardown ends.
            ring.close();
            table.clear();
        }
    }

    @Override
    public String toString() {
        return "io_uring monitor of '" + host.contextName() + "' (ring fd " + ring.fd() + ")";
    }
}
