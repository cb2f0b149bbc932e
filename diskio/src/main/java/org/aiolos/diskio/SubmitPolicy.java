package org.aiolos.diskio;

/**
 * When an engine that batches submissions sends what it holds at once instead of at the
 * end of the loop iteration: when it holds more requests than the device has in flight.
 *
 * <p>QEMU batches to the end of the current {@code defer_call} section
 * ({@code util/defer-call.c}), and runs a whole batch of completions inside one section
 * ({@code qemu_laio_process_completions_and_submit} in {@code block/linux-aio.c}). A caller
 * that submits again from its completion (a server answering from the disk, a benchmark
 * keeping its queue full) then holds every new request until the last completion of the
 * batch has run, while the device, whose requests all just completed, has nothing to do.
 * Measured at QD32 on a 2-vCPU KVM guest (4 KiB O_DIRECT reads, {@code bench/disk.sh}):
 * the device idled in 24 % of samples of {@code /sys/block/vda/inflight} against about
 * 10 % under fio, and Aiolos reached 0.76-0.82x fio's IOPS with either kernel queue;
 * aio-max-batch 4 instead of 32 gave 1.21x [1.00-1.29] in the same rounds.
 *
 * <p>Holding back only while the device is busier than the backlog keeps the batching
 * where it pays (a full device, a trickle of completions: one submission per iteration)
 * and refills an idle device at once, in doubling batches (1, 2, 4, ... with
 * {@code minBatch} 1). aio-max-batch still caps every batch.
 */
public final class SubmitPolicy {
    private SubmitPolicy() {
    }

    /**
     * @param held requests queued and not yet handed to the kernel
     * @param inDevice requests the kernel has and has not completed
     * @param minBatch the least worth a system call of its own (1 where the deferred
     *     submission is a system call anyway; more where it rides on the loop's wait)
     * @return submit now rather than at the end of the iteration
     */
    public static boolean submitNow(int held, int inDevice, int minBatch) {
        return held >= minBatch && held > inDevice;
    }
}
