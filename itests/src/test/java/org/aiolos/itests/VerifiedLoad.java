package org.aiolos.itests;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * NBD load that checks every answer, for as long as it runs: fio jobs with crc32c
 * verification back to back (a new connection each), and qemu-io rounds that keep one
 * connection busy with the commands fio never sends (WRITE with a pattern and READ
 * checking it, WRITE_ZEROES and READ checking zeros, TRIM, BLOCK_STATUS through
 * {@code map}, FLUSH). Any failed request, bad pattern or verify error is recorded.
 */
final class VerifiedLoad implements AutoCloseable {
    private final String uri;
    private final long imageBytes;
    private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger fioRuns = new AtomicInteger();
    private final AtomicInteger ioRounds = new AtomicInteger();
    private volatile boolean running = true;
    private final Thread fio;
    private final Thread qemuIo;

    VerifiedLoad(String uri, long imageBytes) {
        this.uri = uri;
        this.imageBytes = imageBytes;
        this.fio = Thread.ofPlatform().name("load-fio").start(this::fioLoop);
        this.qemuIo = Thread.ofPlatform().name("load-qemu-io").start(this::qemuIoLoop);
    }

    private void fioLoop() {
        // fio's region: the first half of the image; qemu-io's: the second half.
        long half = imageBytes / 2;
        while (running) {
            try {
                Tools.Result r = Tools.exec(120, "fio", "--name=hitless", "--ioengine=nbd", "--uri=" + uri,
                        "--rw=randwrite", "--bs=4k", "--iodepth=8", "--size=" + Math.min(half, 2L << 20),
                        "--offset=0", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--randrepeat=0",
                        "--verify_state_save=0");
                if (r.exit() != 0 || !r.output().contains("err= 0") || r.output().contains("verify: bad")) {
                    failures.add("fio run " + fioRuns.get() + " (exit " + r.exit() + "):\n" + r.output());
                }
                fioRuns.incrementAndGet();
            } catch (IOException | InterruptedException e) {
                failures.add("fio: " + e);
                return;
            }
        }
    }

    private void qemuIoLoop() {
        long base = imageBytes / 2;
        while (running) {
            int round = ioRounds.get();
            int p = 1 + round % 250;
            List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
            for (int k = 0; k < 4; k++) {
                long off = base + (long) ((round * 4 + k) % 64) * 65536;
                long zoff = base + (long) ((round * 4 + k + 17) % 64) * 65536;
                long toff = base + (long) ((round * 4 + k + 41) % 64) * 65536;
                cmd.addAll(List.of("-c", "write -P " + p + " " + off + " 64k", "-c", "read -P " + p + " " + off + " 64k",
                        "-c", "write -z " + zoff + " 64k", "-c", "read -P 0 " + zoff + " 64k",
                        "-c", "discard " + toff + " 64k"));
            }
            cmd.addAll(List.of("-c", "map", "-c", "flush", uri));
            try {
                Tools.Result r = Tools.exec(60, cmd.toArray(String[]::new));
                String out = r.output();
                if (r.exit() != 0 || out.contains("Pattern verification failed") || out.contains("error")
                        || out.contains("failed")) {
                    failures.add("qemu-io round " + round + " (exit " + r.exit() + "):\n" + out);
                }
                ioRounds.incrementAndGet();
            } catch (IOException | InterruptedException e) {
                failures.add("qemu-io: " + e);
                return;
            }
        }
    }

    /** Waits until both clients have completed {@code n} more runs than now. */
    void awaitProgress(int n, long timeoutMs) throws InterruptedException {
        int f = fioRuns.get();
        int q = ioRounds.get();
        Await.until(() -> "load progress: fio " + fioRuns.get() + " runs (from " + f + "), qemu-io " + ioRounds.get()
                + " rounds (from " + q + "); failures: " + failures, timeoutMs,
                () -> !failures.isEmpty() || (fioRuns.get() >= f + n && ioRounds.get() >= q + n));
    }

    List<String> failures() {
        return List.copyOf(failures);
    }

    String summary() {
        return fioRuns.get() + " verified fio runs, " + ioRounds.get() + " qemu-io rounds";
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        fio.join(180_000);
        qemuIo.join(120_000);
    }
}
