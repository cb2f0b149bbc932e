package org.aiolos.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.aiolos.api.AioContext;
import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;
import org.aiolos.api.diskio.DiskFile;
import org.aiolos.api.diskio.DiskIoEngine;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.linux.Errno;
import org.aiolos.linux.Fds;
import org.aiolos.linux.Files;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk-I/O engine suite, written once and run against every engine (one subclass
 * each): data checked against a reference copy, buffered and O_DIRECT, vectored, end of
 * file, flush, 128 requests in flight, errors, close with requests in flight, and leaks.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class DiskEngineContract {
    static final int FILE_SIZE = 1 << 20;

    @TempDir
    Path dir;
    protected final CallbackFailures failures = new CallbackFailures();
    protected AioContext ctx;
    protected DiskIoEngine engine;
    protected TestFile file;
    protected Arena arena;

    /** The factory under test. */
    protected abstract DiskIoEngineFactory factory();

    /**
     * A context of the implementation under the suite, built as {@code spec} says. Engines
     * must not care which fd monitor it uses: a subclass may put it on any.
     */
    protected abstract AioContext newContext(ContextSpec spec);

    @BeforeEach
    void open() throws IOException {
        Assumptions.assumeTrue(factory().unavailableReason() == null, () -> factory().unavailableReason());
        ctx = newContext(new ContextSpec("engine-suite", null, null, failures));
        ctx.poll(false); // this thread becomes the home thread
        engine = factory().open(ctx);
        file = new TestFile(dir, FILE_SIZE, 42);
        arena = Arena.ofShared();
    }

    @AfterEach
    void close() throws Exception {
        Closing.all(engine, ctx, file, arena);
        failures.assertNone();
    }

    /** Results by request index; {@link Long#MIN_VALUE} until completed. */
    public static final class Results {
        public final long[] values;
        public int completed;

        public Results(int n) {
            values = new long[n];
            Arrays.fill(values, Long.MIN_VALUE);
        }

        public DiskIoEngine.IoCompletion slot(int i) {
            return r -> {
                assertEquals(Long.MIN_VALUE, values[i], "request " + i + " completed twice");
                values[i] = r;
                completed++;
            };
        }

        public boolean all() {
            return completed == values.length;
        }
    }

    protected void pollUntil(java.util.function.BooleanSupplier done) {
        // Bounded: a lost completion fails the test with the state instead of hanging the build.
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gave up waiting after 20 s: " + engine);
            }
            ctx.poll(true);
        }
    }

    protected MemorySegment[] split(long total, int pieces) {
        // Piece lengths stay multiples of 4096 so the same split works with O_DIRECT.
        long blocks = total / TestFile.ALIGN;
        MemorySegment[] out = new MemorySegment[pieces];
        long left = blocks;
        for (int i = 0; i < pieces; i++) {
            long b = i == pieces - 1 ? left : Math.max(1, left / (pieces - i));
            out[i] = TestFile.buffer(arena, b * TestFile.ALIGN);
            left -= b;
        }
        return out;
    }

    public static byte[] concat(MemorySegment[] bufs) {
        int n = 0;
        for (MemorySegment b : bufs) {
            n += (int) b.byteSize();
        }
        byte[] out = new byte[n];
        int o = 0;
        for (MemorySegment b : bufs) {
            MemorySegment.copy(b, ValueLayout.JAVA_BYTE, 0, out, o, (int) b.byteSize());
            o += (int) b.byteSize();
        }
        return out;
    }

    protected static void fill(MemorySegment[] bufs, byte[] src, int from) {
        int o = from;
        for (MemorySegment b : bufs) {
            MemorySegment.copy(src, o, b, ValueLayout.JAVA_BYTE, 0, (int) b.byteSize());
            o += (int) b.byteSize();
        }
    }

    // ------------------------------------------------------------------ data

    private void randomRounds(DiskFile f, long seed) {
        Random rnd = new Random(seed);
        int slots = 32;
        int slotSize = FILE_SIZE / slots;
        for (int round = 0; round < 8; round++) {
            // One request per slot: requests of a round never overlap, so their order does not matter.
            Results res = new Results(slots);
            MemorySegment[][] bufs = new MemorySegment[slots][];
            boolean[] write = new boolean[slots];
            int[] offsets = new int[slots];
            for (int s = 0; s < slots; s++) {
                int blocks = 1 + rnd.nextInt(4);
                int len = blocks * (int) TestFile.ALIGN;
                int maxStart = (slotSize - len) / (int) TestFile.ALIGN;
                offsets[s] = s * slotSize + rnd.nextInt(maxStart + 1) * (int) TestFile.ALIGN;
                bufs[s] = split(len, 1 + rnd.nextInt(blocks));
                write[s] = rnd.nextBoolean();
                if (write[s]) {
                    byte[] data = new byte[len];
                    rnd.nextBytes(data);
                    fill(bufs[s], data, 0);
                    System.arraycopy(data, 0, file.reference, offsets[s], len);
                    engine.writev(f, offsets[s], bufs[s], rnd.nextInt(4) == 0, res.slot(s));
                } else {
                    engine.readv(f, offsets[s], bufs[s], res.slot(s));
                }
            }
            pollUntil(res::all);
            for (int s = 0; s < slots; s++) {
                long len = Arrays.stream(bufs[s]).mapToLong(MemorySegment::byteSize).sum();
                assertEquals(len, res.values[s], "round " + round + " slot " + s + (write[s] ? " write" : " read"));
                if (!write[s]) {
                    assertArrayEquals(Arrays.copyOfRange(file.reference, offsets[s], offsets[s] + (int) len),
                            concat(bufs[s]), "read data of round " + round + " slot " + s);
                }
            }
        }
        assertEquals(0, engine.inFlight());
        verifyWholeFile(f);
    }

    private void verifyWholeFile(DiskFile f) {
        MemorySegment[] all = split(FILE_SIZE, 16);
        Results res = new Results(1);
        engine.readv(f, 0, all, res.slot(0));
        pollUntil(res::all);
        assertEquals(FILE_SIZE, res.values[0]);
        assertArrayEquals(file.reference, concat(all), "file content differs from the reference copy");
    }

    @Test
    void randomReadsAndWritesMatchTheReferenceBuffered() {
        randomRounds(file.buffered, 1);
    }

    @Test
    void randomReadsAndWritesMatchTheReferenceWithODirect() {
        assertTrue(file.direct.direct(), "the O_DIRECT descriptor is described as direct");
        randomRounds(file.direct, 2);
    }

    @Test
    void aVectorLongerThanTheInlineIovecsIsReadInOrder() {
        MemorySegment[] bufs = new MemorySegment[40];
        for (int i = 0; i < bufs.length; i++) {
            bufs[i] = TestFile.buffer(arena, TestFile.ALIGN);
        }
        Results res = new Results(2);
        engine.readv(file.direct, 8192, bufs, res.slot(0));
        pollUntil(() -> res.completed == 1);
        assertEquals(40 * TestFile.ALIGN, res.values[0]);
        assertArrayEquals(Arrays.copyOfRange(file.reference, 8192, 8192 + 40 * 4096), concat(bufs));
    }

    @Test
    void theCoroutineVariantsYieldUntilTheRequestCompletes() {
        MemorySegment[] in = {TestFile.buffer(arena, 4096)};
        MemorySegment[] out = {TestFile.buffer(arena, 4096)};
        out[0].fill((byte) 7);
        long[] results = new long[3];
        int[] step = new int[1];
        Coroutine co = Coroutines.create("disk-co", () -> {
            results[0] = engine.coWritev(file.direct, 12288, out, false);
            step[0] = 1;
            results[1] = engine.coFlush(file.direct);
            step[0] = 2;
            results[2] = engine.coReadv(file.buffered, 12288, in);
            step[0] = 3;
        });
        co.enter(ctx);
        assertEquals(0, step[0], "the coroutine yielded inside coWritev");
        assertFalse(co.isFinished());
        pollUntil(co::isFinished);
        assertEquals(3, step[0]);
        assertEquals(4096, results[0]);
        assertEquals(0, results[1]);
        assertEquals(4096, results[2]);
        assertArrayEquals(concat(out), concat(in));
        IllegalStateException outside = assertThrows(IllegalStateException.class, () -> engine.coFlush(file.direct));
        assertTrue(outside.getMessage().contains("coroutine"), outside.getMessage());
    }

    @Test
    void aCoroutineVariantThatCannotYieldSubmitsNothing() {
        Assumptions.assumeTrue("continuation".equals(Coroutines.backend()), "only a continuation can be pinned");
        MemorySegment[] out = {TestFile.buffer(arena, 4096).fill((byte) 0x77)};
        MemorySegment[] in = {TestFile.buffer(arena, 4096)};
        Object[] outcome = new Object[3];
        Coroutine co = Coroutines.create("pinned-disk", () -> {
            // Below a native frame the coroutine cannot yield: each call must refuse before
            // it submits, or the completion would later wake the coroutine wherever it waits.
            outcome[0] = Upcall.callThroughNative(() -> pinned(() -> engine.coWritev(file.buffered, 0, out, false)));
            outcome[1] = Upcall.callThroughNative(() -> pinned(() -> engine.coReadv(file.buffered, 0, in)));
            outcome[2] = Upcall.callThroughNative(() -> pinned(() -> engine.coFlush(file.buffered)));
        });
        co.enter(ctx);
        assertTrue(co.isFinished());
        for (int i = 0; i < outcome.length; i++) {
            assertTrue(outcome[i] instanceof org.aiolos.api.coroutine.CoroutinePinnedException,
                    "call " + i + ": " + outcome[i]);
        }
        assertEquals(0, engine.inFlight(), "nothing was submitted");
        for (int i = 0; i < 20; i++) {
            ctx.poll(false);
        }
        verifyWholeFile(file.buffered); // the refused write wrote nothing
    }

    private static Object pinned(java.util.function.LongSupplier call) {
        try {
            return call.getAsLong();
        } catch (org.aiolos.api.coroutine.CoroutinePinnedException e) {
            return e;
        }
    }

    /** Whether a steady stream of requests allocates (almost) nothing on the home thread. */
    protected boolean allocationFreeSubmission() {
        return true;
    }

    /**
     * The request path must not build garbage per request (validation once built an
     * error-message prefix for every request: ~100 bytes each). What remains, found with
     * JFR allocation sampling on 2026-11-22, is JDK 25's: a non-critical downcall that
     * captures errno slices the capture segment ({@code SharedUtils.checkCaptureSegment},
     * a 40-byte {@code NativeMemorySegmentImpl}) unless the JIT scalar-replaces it, and in
     * this loop it does not. The native engine's {@code io_submit} and the built-in poll
     * monitor's {@code ppoll} each cost one a cycle (80 bytes); io_uring on the io_uring
     * monitor measured ~1 byte a cycle. The bound, 96 bytes a cycle, admits those two and
     * catches anything an engine would allocate per request.
     */
    @Test
    void aSteadyStreamOfRequestsAllocatesAlmostNothingOnTheHomeThread() {
        org.junit.jupiter.api.Assumptions.assumeTrue(allocationFreeSubmission(),
                "this engine allocates per request by design");
        MemorySegment[] buf = {TestFile.buffer(arena, 4096)};
        long[] done = new long[1];
        long[] offset = new long[1];
        DiskIoEngine.IoCompletion[] again = new DiskIoEngine.IoCompletion[1];
        again[0] = r -> {
            done[0]++;
            offset[0] = (offset[0] + 4096) % FILE_SIZE;
            engine.readv(file.direct, offset[0], buf, again[0]);
        };
        engine.readv(file.direct, 0, buf, again[0]);
        while (done[0] < 10_000) {
            ctx.poll(true); // warm up: JIT, lazily grown arrays
        }
        // Steady state: take the best of a few rounds, so a round that overlaps a JIT
        // compilation (likely when other work shares the two cores) does not count.
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        long allocated = Long.MAX_VALUE;
        for (int round = 0; round < 10 && allocated >= 96 * 2_000; round++) {
            long before = threads.getThreadAllocatedBytes(id);
            long target = done[0] + 2_000;
            while (done[0] < target) {
                ctx.poll(true);
            }
            allocated = Math.min(allocated, threads.getThreadAllocatedBytes(id) - before);
        }
        // Stop the chain: the next completion finds no follow-up.
        again[0] = r -> done[0]++;
        pollUntil(() -> engine.inFlight() == 0);
        assertTrue(allocated < 96 * 2_000, "bytes allocated by 2,000 submit + complete cycles: " + allocated);
    }

    // ------------------------------------------------------------------ end of file

    @Test
    void aReadPastEndOfFileZeroFillsAndReportsTheBytesRead() {
        Files.ftruncate(file.bufferedFd, 10_000);
        MemorySegment[] bufs = split(16384, 3);
        for (MemorySegment b : bufs) {
            b.fill((byte) 0x5a);
        }
        Results res = new Results(2);
        engine.readv(file.buffered, 4096, bufs, res.slot(0));
        MemorySegment[] beyond = {TestFile.buffer(arena, 4096).fill((byte) 0x5a)};
        engine.readv(file.buffered, 20_000, beyond, res.slot(1));
        pollUntil(res::all);
        assertEquals(10_000 - 4096, res.values[0], "bytes before end of file");
        byte[] got = concat(bufs);
        assertArrayEquals(Arrays.copyOfRange(file.reference, 4096, 10_000), Arrays.copyOf(got, 10_000 - 4096));
        for (int i = 10_000 - 4096; i < got.length; i++) {
            assertEquals(0, got[i], "byte " + i + " past end of file is zero-filled");
        }
        assertEquals(0, res.values[1], "a read wholly past end of file reads nothing");
        assertEquals(0, concat(beyond)[100]);
    }

    @Test
    void aReadPastEndOfFileIntoABufferConfinedToTheHomeThreadZeroFills() {
        // The fill happens in the home thread when the request completes, never on a
        // threads-engine worker, which cannot touch a segment confined to this thread.
        try (Arena confined = Arena.ofConfined()) {
            MemorySegment buf = confined.allocate(8192, 4096).fill((byte) 0x5a);
            Results res = new Results(1);
            engine.readv(file.buffered, FILE_SIZE - 100, new MemorySegment[] {buf}, res.slot(0));
            pollUntil(res::all);
            assertEquals(100, res.values[0], "bytes before end of file");
            byte[] got = buf.toArray(ValueLayout.JAVA_BYTE);
            assertArrayEquals(Arrays.copyOfRange(file.reference, FILE_SIZE - 100, FILE_SIZE), Arrays.copyOf(got, 100));
            for (int i = 100; i < got.length; i++) {
                assertEquals(0, got[i], "byte " + i + " past end of file is zero-filled");
            }
        }
    }

    @Test
    void aBufferConfinedToAnotherThreadIsRefusedNamingItsOwner() throws Exception {
        java.util.concurrent.CountDownLatch made = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        MemorySegment[] foreign = new MemorySegment[1];
        Thread owner = new Thread(() -> {
            try (Arena confined = Arena.ofConfined()) {
                foreign[0] = confined.allocate(8192, 4096);
                made.countDown();
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "buffer-owner");
        owner.start();
        try {
            made.await();
            MemorySegment[] bufs = {TestFile.buffer(arena, 4096), foreign[0]};
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> engine.readv(file.buffered, FILE_SIZE - 100, bufs, r -> { }));
            assertTrue(e.getMessage().contains("buffer 1 is confined to thread 'buffer-owner'"), e.getMessage());
            assertTrue(e.getMessage().contains("shared or automatic arena"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> engine.writev(file.buffered, 0, bufs, false, r -> { }));
            assertEquals(0, engine.inFlight(), "nothing was submitted");
        } finally {
            done.countDown();
            owner.join();
        }
    }

    @Test
    void aReadPastEndOfFileWhoseArenaClosedInFlightCompletesOnceWithItsResult() {
        // The second buffer lies wholly past end of file: the kernel never writes it, only
        // the zero-fill would, and its memory is gone by then. The fill skips it; the
        // request still completes, once, and gives its slot back.
        Arena doomed = Arena.ofShared();
        MemorySegment[] bufs = {TestFile.buffer(arena, 4096).fill((byte) 0x5a), TestFile.buffer(doomed, 4096)};
        Results res = new Results(1);
        engine.readv(file.buffered, FILE_SIZE - 100, bufs, res.slot(0));
        doomed.close();
        pollUntil(res::all);
        assertEquals(100, res.values[0]);
        assertEquals(0, bufs[0].get(ValueLayout.JAVA_BYTE, 100), "the live buffer is zero-filled past end of file");
        assertEquals(0, engine.inFlight(), "the request slot was given back");
        verifyWholeFile(file.buffered);
    }

    @Test
    void anODirectReadPastEndOfFileStopsInsideTheLastBlock() {
        Files.ftruncate(file.bufferedFd, 10_000);
        MemorySegment[] bufs = split(16384, 2);
        for (MemorySegment b : bufs) {
            b.fill((byte) 0x5a);
        }
        Results res = new Results(1);
        engine.readv(file.direct, 8192, bufs, res.slot(0));
        pollUntil(res::all);
        assertEquals(10_000 - 8192, res.values[0]);
        byte[] got = concat(bufs);
        assertArrayEquals(Arrays.copyOfRange(file.reference, 8192, 10_000), Arrays.copyOf(got, 10_000 - 8192));
        assertEquals(0, got[got.length - 1]);
        assertEquals(0, got[10_000 - 8192]);
    }

    // ------------------------------------------------------------------ flush, depth

    @Test
    void flushAndForceUnitAccessWritesComplete() {
        MemorySegment[] bufs = split(8192, 2);
        fill(bufs, new byte[8192], 0);
        Results res = new Results(3);
        engine.writev(file.direct, 0, bufs, true, res.slot(0));
        engine.flush(file.direct, res.slot(1));
        engine.flush(file.buffered, res.slot(2));
        pollUntil(res::all);
        assertEquals(8192, res.values[0]);
        assertEquals(0, res.values[1]);
        assertEquals(0, res.values[2]);
    }

    @Test
    void oneHundredTwentyEightRequestsInFlight() {
        int n = 128;
        Results res = new Results(n);
        MemorySegment[][] bufs = new MemorySegment[n][];
        for (int i = 0; i < n; i++) {
            bufs[i] = new MemorySegment[] {TestFile.buffer(arena, 4096)};
            engine.readv(file.direct, (long) ((i * 37) % 256) * 4096, bufs[i], res.slot(i));
        }
        assertEquals(n, engine.inFlight(), "every request is outstanding before the loop runs");
        assertEquals(0, res.completed, "no completion runs inside a submission");
        pollUntil(res::all);
        for (int i = 0; i < n; i++) {
            int off = ((i * 37) % 256) * 4096;
            assertEquals(4096, res.values[i]);
            assertArrayEquals(Arrays.copyOfRange(file.reference, off, off + 4096), concat(bufs[i]), "request " + i);
        }
        assertEquals(0, engine.inFlight());
    }

    @Test
    void aCompletionThatThrowsIsReportedAndTheRestOfTheBatchCompletes() {
        int n = 16;
        Results res = new Results(n);
        for (int i = 0; i < n; i++) {
            DiskIoEngine.IoCompletion slot = res.slot(i);
            boolean throwing = i % 5 == 3; // 3, 8, 13: in the middle of the batch
            int index = i;
            engine.readv(file.buffered, i * 100L, new MemorySegment[] {arena.allocate(100)}, r -> {
                slot.complete(r);
                if (throwing) {
                    throw new IllegalStateException("boom " + index);
                }
            });
        }
        pollUntil(res::all); // poll() itself must not throw: the context reports the failures
        for (long v : res.values) {
            assertEquals(100, v);
        }
        List<String> reported = failures.lines();
        assertFalse(reported.isEmpty(), "the failures were reported to the context's failure handler");
        for (String line : reported) {
            assertTrue(line.contains("boom"), line);
        }
        failures.removeIf(line -> line.contains("boom"));
        // The loop carries on: a later request completes.
        Results after = new Results(1);
        engine.readv(file.buffered, 0, new MemorySegment[] {arena.allocate(100)}, after.slot(0));
        pollUntil(after::all);
        assertEquals(100, after.values[0]);
        assertEquals(0, engine.inFlight());
    }

    @Test
    void theBatchLimitDoesNotChangeResults() {
        ctx.setAioParams(3);
        int n = 50;
        Results res = new Results(n);
        for (int i = 0; i < n; i++) {
            engine.readv(file.buffered, i * 100L, new MemorySegment[] {arena.allocate(100)}, res.slot(i));
        }
        pollUntil(res::all);
        for (long v : res.values) {
            assertEquals(100, v);
        }
    }

    /**
     * Completions that resubmit at once (an NBD server answering from disk) must leave the
     * loop to its other work: one pass handles the completions it found, and the requests
     * those create complete in a later iteration, so a bottom half scheduled meanwhile runs
     * at the next one (QEMU: {@code aio_poll} in {@code util/aio-posix.c} runs
     * {@code aio_bh_poll} every iteration). On a buffered file {@code io_submit} completes
     * a cached read before it returns, so a pass that reaps until the ring is empty never
     * ended. Behaviour, not timing: the bottom half must run before the chains have
     * completed more than a few requests each, and while they keep going.
     */
    @Test
    void completionsThatResubmitAtOnceLetABottomHalfRun() {
        for (DiskFile f : new DiskFile[] {file.buffered, file.direct}) {
            for (int chains : new int[] {1, 4, 32}) {
                chainsLetABottomHalfRun(f, chains);
            }
        }
    }

    /** N requests, each resubmitted from its own completion until told to stop. */
    private final class Chains {
        final DiskFile f;
        final int n;
        final MemorySegment[][] bufs;
        final DiskIoEngine.IoCompletion[] next;
        /** Give up (and let the loop return) after this, so a starved bottom half fails rather than hangs. */
        final long deadline = System.nanoTime() + 5_000_000_000L;
        long completed;
        long bad;
        int active;
        boolean stop;
        long completedAtSchedule = -1;
        long completedAtRun = -1;
        int inFlightAtRun = -1;
        org.aiolos.api.BottomHalf bh;

        Chains(DiskFile f, int n) {
            this.f = f;
            this.n = n;
            bufs = new MemorySegment[n][];
            next = new DiskIoEngine.IoCompletion[n];
            for (int i = 0; i < n; i++) {
                int c = i;
                bufs[i] = new MemorySegment[] {TestFile.buffer(arena, 4096)};
                next[i] = r -> completed(c, r);
            }
        }

        void start() {
            for (int i = 0; i < n; i++) {
                engine.readv(f, i * 4096L, bufs[i], next[i]);
                active++;
            }
        }

        private void completed(int c, long r) {
            completed++;
            if (r != 4096) {
                bad++;
            }
            if (completedAtSchedule < 0 && completed >= 4L * n) {
                // Scheduled from a completion, as work created while the loop is busy is.
                completedAtSchedule = completed;
                bh = ctx.newBottomHalf("while chains run", () -> {
                    completedAtRun = completed;
                    inFlightAtRun = engine.inFlight();
                });
                bh.schedule();
            }
            if (completedAtRun >= 0 && completed >= completedAtRun + 4L * n || System.nanoTime() > deadline) {
                stop = true;
            }
            if (stop) {
                active--;
            } else {
                engine.readv(f, c * 4096L, bufs[c], next[c]);
            }
        }
    }

    private void chainsLetABottomHalfRun(DiskFile f, int n) {
        Chains chains = new Chains(f, n);
        chains.start();
        pollUntil(() -> chains.active == 0);
        if (chains.bh != null) {
            chains.bh.delete();
        }
        String what = n + " chain(s) on a " + (f.direct() ? "O_DIRECT" : "buffered") + " file";
        assertEquals(0, chains.bad, what + ": every read returns 4096");
        assertTrue(chains.completedAtRun >= 0, what + ": the bottom half scheduled from a completion never ran in 5 s ("
                + (chains.completed - chains.completedAtSchedule) + " completions ran meanwhile)");
        assertTrue(chains.inFlightAtRun > 0, what + ": the chains were still going when the bottom half ran");
        // The pass that scheduled it completes at most n, a pass at the next iteration's
        // bottom halves at most n more (one request per chain is outstanding): 4n leaves room.
        long between = chains.completedAtRun - chains.completedAtSchedule;
        assertTrue(between <= 4L * n, what + ": the bottom half ran only after " + between
                + " completions, not at the next iteration");
        assertTrue(chains.completed >= chains.completedAtRun + 4L * n,
                what + ": the chains kept going after the bottom half ran: " + chains.completed);
        assertEquals(0, engine.inFlight());
    }

    /**
     * A completion that runs the loop (a nested {@code aio_poll}, which QEMU allows) while a
     * request it just submitted completes: that completion still runs. With passes bounded,
     * the nested loop may take the notification of what the outer pass leaves behind.
     */
    @Test
    void aCompletionThatPollsTheLoopLosesNoCompletion() {
        for (long pollMaxNs : new long[] {0, 32768}) {
            // Without busy polling the nested loop dispatches the fd handler itself.
            ctx.setPollParams(pollMaxNs, 0, 0);
            nestedPollsLoseNoCompletion();
        }
    }

    private void nestedPollsLoseNoCompletion() {
        for (DiskFile f : new DiskFile[] {file.buffered, file.direct}) {
            for (int round = 0; round < 20; round++) {
                long[] res = {Long.MIN_VALUE, Long.MIN_VALUE};
                MemorySegment[] a = {TestFile.buffer(arena, 4096)};
                MemorySegment[] b = {TestFile.buffer(arena, 4096)};
                engine.readv(f, 0, a, r -> {
                    res[0] = r;
                    engine.readv(f, 4096, b, r2 -> res[1] = r2);
                    for (int i = 0; i < 3; i++) {
                        ctx.poll(false);
                    }
                });
                pollUntil(() -> res[1] != Long.MIN_VALUE);
                assertEquals(4096, res[0]);
                assertEquals(4096, res[1]);
                assertEquals(0, engine.inFlight());
            }
        }
    }

    /**
     * A completion that waits in a nested loop for a request it submitted itself (QEMU's
     * {@code AIO_WAIT_WHILE} from a callback, as a drain inside a completion does) gets it:
     * the pass that runs the outer completion must let a nested loop run completions too.
     * {@code qemu_laio_process_completions} ({@code block/linux-aio.c}) schedules its
     * completion bottom half before the callbacks for this, "so nested event loops see
     * currently pending completions". A guard timer ends a wait that would otherwise block
     * for ever, so a failure reports instead of hanging the build.
     */
    @Test
    void aCompletionThatWaitsInANestedLoopForItsOwnRequestGetsIt() {
        for (long pollMaxNs : new long[] {0, 32768}) {
            ctx.setPollParams(pollMaxNs, 0, 0);
            for (DiskFile f : new DiskFile[] {file.buffered, file.direct}) {
                for (int round = 0; round < 10; round++) {
                    nestedWaitFor(f, pollMaxNs, round);
                }
            }
        }
    }

    private void nestedWaitFor(DiskFile f, long pollMaxNs, int round) {
        long[] res = {Long.MIN_VALUE, Long.MIN_VALUE};
        boolean[] gaveUp = {false};
        var guard = ctx.newTimer(org.aiolos.api.ClockType.REALTIME, org.aiolos.api.TimeScale.MS, () -> gaveUp[0] = true);
        try {
            MemorySegment[] a = {TestFile.buffer(arena, 4096)};
            MemorySegment[] b = {TestFile.buffer(arena, 4096)};
            engine.readv(f, 0, a, r -> {
                res[0] = r;
                engine.readv(f, 4096, b, r2 -> res[1] = r2);
                guard.mod(ctx.clocks().nowNs(org.aiolos.api.ClockType.REALTIME) / 1_000_000 + 10_000);
                while (res[1] == Long.MIN_VALUE && !gaveUp[0]) {
                    ctx.poll(true);
                }
            });
            pollUntil(() -> res[0] != Long.MIN_VALUE);
            String what = engine.name() + " on " + f + ", poll-max-ns " + pollMaxNs + ", round " + round;
            assertFalse(gaveUp[0], what + ": the nested loop waited 10 s for the request its completion submitted");
            assertEquals(4096, res[0], what);
            assertEquals(4096, res[1], what);
            assertEquals(0, engine.inFlight(), what);
        } finally {
            guard.cancel();
        }
    }

    // ------------------------------------------------------------------ errors

    @Test
    void aBadDescriptorCompletesWithEbadf() {
        int fd = Files.open(file.path.toString(), Files.O_RDONLY, 0);
        Fds.close(fd);
        Results res = new Results(3);
        DiskFile closed = DiskFile.buffered(fd);
        engine.readv(closed, 0, new MemorySegment[] {arena.allocate(512)}, res.slot(0));
        engine.writev(closed, 0, new MemorySegment[] {arena.allocate(512)}, false, res.slot(1));
        engine.flush(closed, res.slot(2));
        pollUntil(res::all);
        for (long v : res.values) {
            assertEquals(-Errno.EBADF, v, Errno.describe((int) -v));
        }
    }

    @Test
    void misalignedODirectRequestsAreRejectedWithTheAlignmentNeeded() {
        long memAlign = file.direct.memoryAlignment();
        long offAlign = file.direct.offsetAlignment();
        MemorySegment aligned = TestFile.buffer(arena, 8192);
        IllegalArgumentException off = assertThrows(IllegalArgumentException.class,
                () -> engine.readv(file.direct, offAlign / 2, new MemorySegment[] {aligned}, r -> { }));
        assertTrue(off.getMessage().contains("offset " + offAlign / 2) && off.getMessage().contains(offAlign + "-byte"),
                off.getMessage());
        if (memAlign > 1) {
            IllegalArgumentException addr = assertThrows(IllegalArgumentException.class,
                    () -> engine.readv(file.direct, 0, new MemorySegment[] {aligned.asSlice(1, 4096)}, r -> { }));
            assertTrue(addr.getMessage().contains("address") && addr.getMessage().contains(memAlign + "-byte"),
                    addr.getMessage());
        }
        IllegalArgumentException len = assertThrows(IllegalArgumentException.class,
                () -> engine.writev(file.direct, 0, new MemorySegment[] {aligned.asSlice(0, offAlign + 1)}, false,
                        r -> { }));
        assertTrue(len.getMessage().contains("length " + (offAlign + 1)), len.getMessage());
        assertEquals(0, engine.inFlight(), "nothing was submitted");
    }

    @Test
    void aMisalignedRequestTheKernelSeesCompletesWithEinval() {
        // A descriptor described as buffered although it has O_DIRECT: only the kernel can object.
        Results res = new Results(1);
        MemorySegment odd = TestFile.buffer(arena, 8192).asSlice(1, 512);
        engine.readv(DiskFile.buffered(file.directFd), 1, new MemorySegment[] {odd}, res.slot(0));
        pollUntil(res::all);
        assertEquals(-Errno.EINVAL, res.values[0], Errno.describe((int) -res.values[0]));
    }

    @Test
    void badArgumentsAreRejectedAndTheEngineKeepsWorking() {
        assertThrows(IllegalArgumentException.class, () -> engine.readv(file.buffered, -1,
                new MemorySegment[] {arena.allocate(8)}, r -> { }));
        assertThrows(IllegalArgumentException.class, () -> engine.readv(file.buffered, 0, new MemorySegment[0],
                r -> { }));
        assertThrows(IllegalArgumentException.class, () -> engine.readv(file.buffered, 0,
                new MemorySegment[] {MemorySegment.ofArray(new byte[8])}, r -> { }));
        assertThrows(NullPointerException.class, () -> engine.readv(file.buffered, 0,
                new MemorySegment[] {arena.allocate(8)}, null));
        Results res = new Results(1);
        engine.readv(file.buffered, 0, new MemorySegment[] {arena.allocate(8)}, res.slot(0));
        pollUntil(res::all);
        assertEquals(8, res.values[0]);
    }

    /**
     * Memory the kernel would write into or read from after it was freed, or a read-only
     * view it would write into: rejected at submission, naming the buffer and why, nothing
     * submitted, the engine still working. A read into a closed arena used to be accepted
     * by every engine (4 KiB "succeeded" into freed memory, 1 MiB aborted the JVM).
     */
    @Test
    void freedReadOnlyAndHeapBuffersAreRejectedNamingTheBuffer() {
        for (long size : new long[] {4096, 1 << 20}) {
            Arena closed = Arena.ofShared();
            MemorySegment freed = TestFile.buffer(closed, size);
            closed.close();
            for (DiskFile f : new DiskFile[] {file.buffered, file.direct}) {
                IllegalArgumentException read = assertThrows(IllegalArgumentException.class,
                        () -> engine.readv(f, 0, new MemorySegment[] {TestFile.buffer(arena, 4096), freed}, r -> {
                            throw new AssertionError("a rejected request completed with " + r);
                        }));
                assertEquals("read on fd " + f.fd() + ": buffer 1 is no longer alive: the arena that allocated it"
                        + " is closed", read.getMessage());
                IllegalArgumentException write = assertThrows(IllegalArgumentException.class,
                        () -> engine.writev(f, 0, new MemorySegment[] {freed}, false, r -> { }));
                assertTrue(write.getMessage().startsWith("write on fd " + f.fd() + ": buffer 0 is no longer alive"),
                        write.getMessage());
            }
        }
        MemorySegment readOnly = TestFile.buffer(arena, 4096).asReadOnly();
        IllegalArgumentException ro = assertThrows(IllegalArgumentException.class,
                () -> engine.readv(file.direct, 0, new MemorySegment[] {readOnly}, r -> { }));
        assertEquals("read on fd " + file.direct.fd() + ": buffer 0 is read-only and cannot receive the data read",
                ro.getMessage());
        assertEquals(0, readOnly.get(ValueLayout.JAVA_BYTE, 0), "the kernel never wrote the read-only buffer");
        IllegalArgumentException heap = assertThrows(IllegalArgumentException.class,
                () -> engine.writev(file.buffered, 0, new MemorySegment[] {MemorySegment.ofArray(new byte[64])},
                        false, r -> { }));
        assertTrue(heap.getMessage().startsWith("write on fd " + file.buffered.fd()
                + ": buffer 0 is not native memory"), heap.getMessage());
        assertEquals(0, engine.inFlight(), "nothing was submitted");

        // A read-only segment is a fine source for a write, and the engine keeps working.
        MemorySegment source = TestFile.buffer(arena, 4096);
        source.copyFrom(MemorySegment.ofArray(Arrays.copyOfRange(file.reference, 8192, 8192 + 4096)));
        MemorySegment back = TestFile.buffer(arena, 4096);
        Results res = new Results(2);
        engine.writev(file.direct, 0, new MemorySegment[] {source.asReadOnly()}, false, res.slot(0));
        pollUntil(() -> res.completed == 1);
        engine.readv(file.direct, 0, new MemorySegment[] {back}, res.slot(1));
        pollUntil(res::all);
        assertEquals(4096, res.values[0]);
        assertEquals(4096, res.values[1]);
        assertArrayEquals(Arrays.copyOfRange(file.reference, 8192, 8192 + 4096),
                back.toArray(ValueLayout.JAVA_BYTE));
    }

    /**
     * The crash case itself, where a crash cannot take the suite down: a fresh JVM whose
     * first disk request is a 1 MiB read into a closed arena. It must exit normally, having
     * been refused; a JVM abort (exit 134, glibc "free(): invalid pointer") fails here.
     */
    @Test
    void aOneMebibyteReadIntoAClosedArenaIsRefusedInAFreshJvm() throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                FreedBufferProbe.class.getName(), getClass().getName(), dir.toString());
        Path log = dir.resolve("probe.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean finished = p.waitFor(50, TimeUnit.SECONDS);
        if (!finished) {
            p.destroyForcibly().waitFor();
        }
        p.getOutputStream().close();
        p.getInputStream().close();
        p.getErrorStream().close();
        String text = java.nio.file.Files.readString(log);
        assertTrue(finished, "the probe JVM did not finish in 50 s:\n" + text);
        assertEquals(0, p.exitValue(), "the probe JVM failed (134 is an abort):\n" + text);
        assertTrue(text.contains("refused: read on fd ") && text.contains("no longer alive"), text);
        assertTrue(text.contains("engine still works: 4096"), text);
    }

    /** Request i of the test below: 12 blocks apart, all inside the file. */
    private static long offset(int i) {
        return i * 12L % 240 * 4096;
    }

    /**
     * The engine holds the segments of a request, not the caller's array: the caller may
     * clear or reuse its array at once, and memory of an automatic arena
     * ({@link org.aiolos.api.diskio.DiskBuffers}) cannot be collected while the kernel
     * writes it, however hard the collector is pushed meanwhile.
     */
    @Test
    void theEngineHoldsTheBuffersItWasGivenUntilTheCompletionRuns() {
        int n = 24; // more than the inline iovecs of a request, and several requests
        Results res = new Results(n);
        java.lang.ref.WeakReference<?>[] held = new java.lang.ref.WeakReference<?>[n];
        boolean[] aliveAtCompletion = new boolean[n];
        byte[][] seen = new byte[n][];
        for (int i = 0; i < n; i++) {
            int pieces = 1 + i % 12;
            MemorySegment[] bufs = new MemorySegment[pieces];
            for (int k = 0; k < pieces; k++) {
                bufs[k] = org.aiolos.api.diskio.DiskBuffers.allocate(file.direct, TestFile.ALIGN);
            }
            MemorySegment last = bufs[pieces - 1];
            held[i] = new java.lang.ref.WeakReference<>(last);
            int slot = i;
            DiskIoEngine.IoCompletion done = res.slot(i);
            // The completion must not reference the buffers: only the engine may keep them.
            engine.readv(file.direct, offset(i), bufs, r -> {
                Object segment = held[slot].get();
                aliveAtCompletion[slot] = segment != null;
                if (segment != null) {
                    seen[slot] = ((MemorySegment) segment).toArray(ValueLayout.JAVA_BYTE);
                }
                done.complete(r);
            });
            Arrays.fill(bufs, null);
            last = null;
        }
        for (int gc = 0; gc < 3; gc++) {
            System.gc();
        }
        pollUntil(res::all);
        for (int i = 0; i < n; i++) {
            int pieces = 1 + i % 12;
            assertEquals(pieces * 4096L, res.values[i], "request " + i);
            assertTrue(aliveAtCompletion[i], "request " + i + "'s buffer was collected before its completion ran");
            int at = (int) (offset(i) + (pieces - 1) * 4096L);
            assertArrayEquals(Arrays.copyOfRange(file.reference, at, at + 4096), seen[i], "request " + i);
        }
    }

    @Test
    void submittingFromAnotherThreadIsRefused() throws Exception {
        Throwable[] thrown = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                engine.readv(file.buffered, 0, new MemorySegment[] {arena.allocate(8)}, r -> { });
            } catch (Throwable e) {
                thrown[0] = e;
            }
        });
        t.start();
        t.join();
        assertTrue(thrown[0] instanceof IllegalStateException, String.valueOf(thrown[0]));
        assertTrue(thrown[0].getMessage().contains("home thread"), thrown[0].getMessage());
    }

    @Test
    void aFullFilesystemCompletesWritesWithEnospc() throws Exception {
        Path mnt = dir.resolve("small-tmpfs");
        java.nio.file.Files.createDirectories(mnt);
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        Assumptions.assumeTrue(p.waitFor() == 0, "cannot mount a 1 MiB tmpfs here: " + out.strip());
        try {
            int fd = Files.open(mnt.resolve("full").toString(), Files.O_RDWR | Files.O_CREAT, 0600);
            try {
                MemorySegment[] big = split(2 << 20, 4);
                Results res = new Results(2);
                engine.writev(DiskFile.buffered(fd), 0, big, false, res.slot(0));
                pollUntil(() -> res.completed == 1);
                assertEquals(-Errno.ENOSPC, res.values[0], "a 2 MiB write into a 1 MiB filesystem");
                engine.writev(DiskFile.buffered(fd), 0, new MemorySegment[] {arena.allocate(4096)}, false,
                        res.slot(1));
                pollUntil(res::all);
                assertEquals(4096, res.values[1], "the engine keeps working after ENOSPC");
            } finally {
                Fds.close(fd);
            }
        } finally {
            new ProcessBuilder("umount", mnt.toString()).start().waitFor();
        }
    }

    // ------------------------------------------------------------------ close, leaks

    @Test
    void closeWithRequestsInFlightRunsEveryCompletion() {
        int n = 64;
        Results res = new Results(n);
        for (int i = 0; i < n; i++) {
            MemorySegment[] b = {TestFile.buffer(arena, 4096)};
            if (i % 2 == 0) {
                engine.readv(file.direct, i * 4096L, b, res.slot(i));
            } else {
                engine.writev(file.direct, i * 4096L, b, false, res.slot(i));
            }
        }
        assertEquals(n, engine.inFlight());
        engine.close();
        assertTrue(res.all(), "every completion ran before close returned: " + res.completed + "/" + n);
        for (long v : res.values) {
            assertEquals(4096, v);
        }
        assertEquals(0, engine.inFlight());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> engine.readv(file.buffered, 0,
                new MemorySegment[] {arena.allocate(8)}, r -> { }));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        engine.close(); // idempotent
        engine = null;
    }

    @Test
    void descriptorsThreadsAndNativeMemoryAreUnchangedAfterClose() throws Exception {
        engine.close();
        engine = null;
        for (int i = 0; i < 3; i++) {
            cycle(); // warm up class loading, per-thread state, and pool workers
        }
        int fds = Fds.openFdCount();
        int threads = liveThreads();
        long nativeBytes = settledNativeMemory(-1);
        long mappings = ringMappings();
        for (int i = 0; i < 10; i++) {
            cycle();
        }
        assertEquals(fds, Fds.openFdCount(), "file descriptors leaked");
        assertEquals(threads, liveThreads(), "threads leaked");
        long after = settledNativeMemory(nativeBytes);
        // Workers' per-thread state is freed by a cleaner after their thread ends, so the
        // baseline may still hold some of the warm-up's: what is checked is that nothing grew.
        assertTrue(after <= nativeBytes, "native memory (FFM arenas) leaked: " + nativeBytes + " -> " + after);
        assertEquals(mappings, ringMappings(), "kernel ring mappings leaked");
    }

    private void cycle() {
        DiskIoEngine e = factory().open(ctx);
        try (Arena a = Arena.ofConfined()) {
            Results res = new Results(40);
            for (int i = 0; i < 40; i++) {
                MemorySegment[] b = new MemorySegment[i % 10 == 0 ? 12 : 1];
                for (int k = 0; k < b.length; k++) {
                    b[k] = a.allocate(4096, 4096);
                }
                e.readv(file.direct, 0, b, res.slot(i));
            }
            if (ctx.poll(false)) {
                ctx.poll(false);
            }
            e.close();
            assertTrue(res.all());
        }
    }

    static int liveThreads() throws InterruptedException {
        Thread.sleep(50);
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }

    /**
     * The direct-memory count once the garbage collector has freed what threads that
     * ended left behind (linux keeps per-thread errno-capture segments in automatic
     * arenas; the thread pool's workers come and go): retried until it equals
     * {@code expected}, or a second, for a stable baseline with -1.
     */
    /** Native memory after GC has settled, or once it is at most {@code expected} (when that is >= 0). */
    static long settledNativeMemory(long expected) throws InterruptedException {
        long v = nativeMemory();
        for (int i = 0; i < 50 && (expected < 0 || v > expected); i++) {
            System.gc();
            Thread.sleep(20);
            long next = nativeMemory();
            if (expected < 0 && next == v) {
                return v;
            }
            v = next;
        }
        return v;
    }

    /** FFM allocations are accounted in the "direct" buffer pool. */
    static long nativeMemory() {
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (b.getName().equals("direct")) {
                return b.getMemoryUsed();
            }
        }
        throw new AssertionError("no direct buffer pool bean");
    }

    static long ringMappings() throws IOException {
        List<String> lines = new ArrayList<>(java.nio.file.Files.readAllLines(Path.of("/proc/self/maps")));
        return lines.stream().filter(l -> l.contains("io_uring") || l.contains("[aio]")).count();
    }

    @Test
    void theContextsEngineIsOpenedOnFirstUseAndClosedWithTheContext() {
        engine.close();
        engine = null;
        AioContext c = newContext(new ContextSpec("facade", null, factory(), failures));
        c.poll(false);
        try {
            assertEquals(null, c.diskEngineName(), "nothing is opened before the first request");
            Results res = new Results(2);
            c.diskIo().readv(file.buffered, 0, new MemorySegment[] {arena.allocate(64)}, res.slot(0));
            assertEquals(factory().name(), c.diskEngineName());
            assertEquals(factory().name(), c.diskIo().name());
            c.diskIo().readv(file.buffered, 64, new MemorySegment[] {arena.allocate(64)}, res.slot(1));
            assertFalse(res.all());
            c.close(); // with both reads in flight
            c = null;
            assertTrue(res.all(), "closing the context ran the completions");
            assertEquals(64, res.values[0]);
            assertEquals(64, res.values[1]);
        } finally {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void theContextsEngineCannotBeClosedThroughItsFacade() throws Exception {
        AioContext c = newContext(new ContextSpec("facade-close", null, factory(), failures));
        c.poll(false);
        try {
            Results res = new Results(3);
            c.diskIo().readv(file.buffered, 0, new MemorySegment[] {arena.allocate(64)}, res.slot(0));
            DiskIoEngine io = c.diskIo();
            UnsupportedOperationException home = assertThrows(UnsupportedOperationException.class, io::close);
            assertTrue(home.getMessage().contains("belongs to the context and closes with it"), home.getMessage());
            Throwable[] other = new Throwable[1];
            Thread t = Thread.ofPlatform().name("not-home").start(() -> {
                try {
                    io.close();
                } catch (Throwable e) {
                    other[0] = e;
                }
            });
            t.join();
            assertTrue(other[0] instanceof UnsupportedOperationException, "from another thread: " + other[0]);
            // Nothing was closed: the request in flight completes, and new ones are taken.
            c.diskIo().readv(file.buffered, 64, new MemorySegment[] {arena.allocate(64)}, res.slot(1));
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (res.completed < 2) {
                assertTrue(System.nanoTime() < deadline, "gave up waiting after 20 s");
                c.poll(true);
            }
            c.diskIo().readv(file.buffered, 128, new MemorySegment[] {arena.allocate(64)}, res.slot(2));
            c.close(); // with a read in flight: the context's close runs it
            c = null;
            assertTrue(res.all(), "closing the context ran the completions");
            for (long v : res.values) {
                assertEquals(64, v);
            }
        } finally {
            if (c != null) {
                c.close();
            }
        }
    }
}
