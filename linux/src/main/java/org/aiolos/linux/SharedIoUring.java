package org.aiolos.linux;

/**
 * An io_uring ring that its owner lends for other requests: the io_uring fd monitor's ring,
 * on which the io_uring disk engine queues its SQEs when its context monitors fds with
 * io_uring (QEMU 10.2's {@code aio_add_sqe} in {@code util/aio-posix.c} and
 * {@code util/fdmon-io_uring.c}, used by {@code block/io_uring.c}). The monitor's next wait
 * submits them together with its own and sleeps in the same {@code io_uring_enter}, so a
 * request costs no system call of its own; a borrower whose device would idle meanwhile
 * may submit early ({@link #submitNow()}).
 *
 * <p><b>Protocol.</b> A borrower {@link #attach}es once and gets a {@link Lease}; per
 * request it takes an SQE with {@link #sqe}, prepares it on {@link #ring()} with user data
 * {@link Lease#userData(int)}, and counts it with {@link Lease#queued()}. The owner reaps
 * the borrower's completions during its wait and keeps them; in its dispatch (QEMU's
 * {@code FDMonOps.dispatch}, after the wait, at a safe point before bottom halves) it hands
 * each to {@link Completions#complete(int, int)} and then calls {@link Completions#run()}:
 * no completion runs inside the wait, and none needs a bottom half (which, scheduled
 * during the wait, would cost an eventfd write). A borrower that must finish early (it
 * closes) calls {@link #drain}, which hands completions over without {@code run()}. Before
 * the owner closes (a monitor swap, the context closing) it submits and waits for every
 * lent request still outstanding, hands those completions over, and tells the borrower
 * with {@link Completions#runSoon()}, so a swap loses none.
 *
 * <p>Home thread only, like the ring.
 */
public interface SharedIoUring {

    /** Where the owner hands a borrower's completions; home thread. */
    interface Completions {
        /** Records the completion of the request whose {@link Lease#userData(int)} carried {@code id}. */
        void complete(int id, int res);

        /** Runs the completions recorded so far; called from the owner's dispatch, a safe point. */
        void run();

        /**
         * Completions were handed over outside the owner's dispatch (its close at a swap,
         * another borrower's drain): run them soon, from a bottom half, not from this call.
         */
        void runSoon();
    }

    /** A borrower's place on the ring. */
    interface Lease {
        /** The user data for an SQE of request {@code id} (a non-negative int). */
        long userData(int id);

        /** Counts one more SQE prepared with this lease's user data. */
        void queued();

        /** SQEs prepared with this lease whose completion has not been handed over yet. */
        int outstanding();

        /** False once the owner closed (every request was handed over); take a new lease from the context then. */
        boolean valid();
    }

    /** The ring, for the {@code prep*} calls on SQEs {@link #sqe} hands out. */
    IoUring ring();

    /**
     * Registers a borrower.
     *
     * @throws IllegalStateException when the owner is closed or has no room for another borrower
     */
    Lease attach(Completions completions);

    /** Releases a lease with nothing outstanding; a lease with requests outstanding is drained first. */
    void detach(Lease lease);

    /** A free SQE (submitting the full SQ first if needed), or -1 when the kernel takes no more now. */
    long sqe();

    /**
     * Submits the SQEs queued so far without waiting, for a borrower whose device would
     * otherwise idle until the owner's next wait. Completions still come through the
     * owner's wait and dispatch. Nothing happens once the owner is closed.
     */
    void submitNow();

    /**
     * Submits and waits until {@code lease} has nothing outstanding, handing its completions
     * over as they come (without {@link Completions#run()}: the caller runs them).
     * Completions of the owner's own requests met meanwhile are kept for the owner
     * (level-triggered polls are armed again, so no readiness is lost).
     */
    void drain(Lease lease);
}
