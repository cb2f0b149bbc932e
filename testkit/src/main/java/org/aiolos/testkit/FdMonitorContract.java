package org.aiolos.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.linux.EventFd;
import org.aiolos.linux.Fds;
import org.aiolos.linux.Sockets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The behaviour every fd monitor must show, written once and run against poll, epoll and
 * io_uring (one subclass each), through a real context: readiness kinds, level
 * triggering, handler changes during dispatch, closed and reused fds, many fds,
 * nanosecond timeouts, wake-ups, nesting and adaptive polling.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
public abstract class FdMonitorContract {
    /** The monitor under test ({@code poll}, {@code epoll}, {@code io_uring}). */
    protected abstract String monitorName();

    /** Its factory; {@code null} for the context implementation's built-in monitor. */
    protected abstract FdMonitorFactory factory();

    /** A context of the implementation under the suite, built as {@code spec} says. */
    protected abstract AioContext newContext(ContextSpec spec);

    protected AioContext ctx;
    protected final CallbackFailures failures = new CallbackFailures();
    private final List<Integer> toClose = new ArrayList<>();
    private AioTimer tick;
    private int fdsBefore;
    private int threadsBefore;

    @BeforeEach
    void open() {
        fdsBefore = Fds.openFdCount();
        threadsBefore = Io.threadCount();
        ctx = newContext(monitorName());
        tick = ctx.newTimer(ClockType.REALTIME, TimeScale.NS, () -> { });
        assertEquals(monitorName(), ctx.fdMonitorName(), "the context runs on the monitor under test");
    }

    private AioContext newContext(String name) {
        return newContext(new ContextSpec("contract-" + name, factory(), null, failures));
    }

    /**
     * For a monitor that is a kernel object: a context on it holds one more descriptor to
     * {@code target} (its link text in /proc/self/fd, e.g. {@code anon_inode:[eventpoll]})
     * and gives it back when it closes. A handler on that descriptor is refused, naming the
     * monitor, and the context stays on it.
     */
    protected final void assertEachContextHoldsOne(String target) {
        java.util.Set<Integer> before = Io.fdsTo(target);
        AioContext extra = newContext("kernel-object");
        try {
            java.util.Set<Integer> own = new java.util.TreeSet<>(Io.fdsTo(target));
            own.removeAll(before);
            assertEquals(1, own.size(), "one " + target + " for the new context: " + own);
            int fd = own.iterator().next();
            IllegalArgumentException refused = org.junit.jupiter.api.Assertions.assertThrows(
                    IllegalArgumentException.class, () -> extra.setFdHandler(fd, () -> { }, null));
            assertEquals("fd " + fd + " belongs to the context's own fd monitor (" + monitorName() + ")",
                    refused.getMessage());
            assertEquals(monitorName(), extra.fdMonitorName(), "still on its monitor; note: " + extra.fdMonitorNote());
        } finally {
            extra.close();
        }
        assertEquals(before, Io.fdsTo(target), "closed with its context");
    }

    @AfterEach
    void closeAndCheck() {
        tick.cancel();
        assertEquals(monitorName(), ctx.fdMonitorName(), "still on the monitor under test; note: " + ctx.fdMonitorNote());
        ctx.close();
        for (int fd : toClose) {
            Io.closeQuietly(fd);
        }
        failures.assertNone();
        assertEquals(fdsBefore, Fds.openFdCount(), "open fds before/after");
        assertEquals(threadsBefore, Io.threadCount(), () -> "threads before/after: " + Io.threadNames());
    }

    // ---- what differs between monitors (the kernel interfaces, not the implementations)

    /** When the monitor reports an fd closed while its handler is registered. */
    protected enum ClosedFdReport {
        /** At the next wait (poll(2): POLLNVAL). */
        AT_ONCE,
        /** Never: the kernel forgets the fd when its file closes (epoll). */
        NEVER,
        /**
         * When the file itself has an event: an armed io_uring POLL_ADD holds the file, so
         * close(2) of the number neither completes nor cancels it.
         */
        WHEN_THE_FILE_HAS_AN_EVENT
    }

    /** poll(2)'s behaviour by default; monitors on other kernel interfaces override. */
    protected ClosedFdReport closedFdReport() {
        return ClosedFdReport.AT_ONCE;
    }

    /**
     * Whether readiness is reported as of the moment the kernel saw it (io_uring's one-shot
     * POLL_ADD completion) rather than looked up during the wait (poll, epoll): then a
     * handler can run for an fd drained in between, and its non-blocking read gets EAGAIN.
     */
    protected boolean reportsReadinessAsSeenEarlier() {
        return false;
    }

    @Test
    void readinessDrainedBeforeTheWaitReachesTheHandlerOnlyWhereReportedAsSeenEarlier() {
        int[] p = pipe(); // non-blocking, as a handler's fd must be
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment buf = arena.allocate(64);
            AtomicInteger calls = new AtomicInteger();
            AtomicInteger eagain = new AtomicInteger();
            AtomicInteger bytes = new AtomicInteger();
            ctx.setFdHandler(p[0], () -> {
                calls.incrementAndGet();
                int n = Fds.read(p[0], buf, 64);
                if (n == -org.aiolos.linux.Errno.EAGAIN) {
                    eagain.incrementAndGet();
                } else if (n > 0) {
                    bytes.addAndGet(n);
                }
            }, null);
            pollRounds(2); // armed in the kernel
            Fds.write(p[1], buf, 1);
            assertEquals(1, Fds.read(p[0], buf, 64), "someone else drains the fd before the loop waits");
            pollRounds(5);
            if (reportsReadinessAsSeenEarlier()) {
                assertEquals(1, calls.get(), "the readiness the kernel saw is reported");
                assertEquals(1, eagain.get(), "the handler finds the fd drained: EAGAIN, nothing lost");
            } else {
                assertEquals(0, calls.get(), "the monitor looks at the fd during the wait");
            }
            Fds.write(p[1], buf, 3);
            pollUntil(() -> bytes.get() == 3, "later data, delivered as usual");
            ctx.removeFdHandler(p[0]);
        }
    }

    @Test
    void anFdClosedWhileRegisteredIsReportedAsTheKernelInterfaceAllows() {
        int[] p = Fds.pipe(); // closed here, not by the suite: p[0]'s number may be reused
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment buf = arena.allocate(8);
            AtomicInteger calls = new AtomicInteger();
            ctx.setFdHandler(p[0], calls::incrementAndGet, null);
            pollRounds(2);
            Fds.close(p[0]); // user error: closed while its handler is registered
            pollRounds(2_000);
            String report = "fd " + p[0] + " was closed while its handler was registered";
            boolean reported = failures.lines().stream().anyMatch(l -> l.contains(report));
            assertEquals(closedFdReport() == ClosedFdReport.AT_ONCE, reported,
                    "reported after 2,000 non-blocking polls: " + failures.lines());
            assertEquals(0, calls.get(), "no callback for a file without an event");
            if (closedFdReport() == ClosedFdReport.WHEN_THE_FILE_HAS_AN_EVENT) {
                assertEquals(1, Fds.write(p[1], buf, 1), "the armed poll still holds the read side open");
                pollUntil(() -> failures.lines().stream().anyMatch(l -> l.contains(report)),
                        "the file's event: the handler runs once, its re-arm fails with EBADF, it is dropped");
                assertEquals(1, calls.get());
                // With the handler gone the kernel lets the file go: the pipe has no reader left.
                boolean epipe = false;
                for (int i = 0; i < 1000 && !epipe; i++) {
                    ctx.poll(false);
                    try {
                        Fds.write(p[1], buf, 1);
                    } catch (org.aiolos.linux.SyscallException e) {
                        epipe = e.errno() == org.aiolos.linux.Errno.EPIPE;
                    }
                }
                assertTrue(epipe, "the read side was released once the handler was dropped");
            }
            ctx.removeFdHandler(p[0]); // a no-op where the context already dropped it
            pollRounds(2);
            AtomicInteger ran = new AtomicInteger();
            ctx.scheduleOneshot("alive", ran::incrementAndGet);
            ctx.poll(false);
            assertEquals(1, ran.get(), "the loop keeps running");
        } finally {
            Fds.close(p[1]);
            failures.removeIf(l -> l.contains("was closed while its handler was registered"));
        }
    }

    /**
     * Cold start equals warm: a fresh JVM whose first action is the adaptive-polling
     * scenario whose readiness shows only through a poll callback, on this monitor
     * ({@link ColdStartProbe}). Before a monitor's first waits were left unmeasured, the
     * slow first wait of a cold JVM shrank the handler's poll time to 0 and the probe's
     * blocking poll slept forever; the probe is killed after 60 s and the test fails with
     * its output.
     */
    @Test
    void aFreshJvmsFirstPollCallbackOnlyReadinessDoesNotHang() throws Exception {
        // Not Files.createTempFile: its SecureRandom opens /dev/random and /dev/urandom for
        // good the first time, which the suite's descriptor count would take for a leak.
        java.nio.file.Path out = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "cold-start-"
                + monitorName() + "-" + ProcessHandle.current().pid() + ".log");
        try {
            Process p = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString(), "--enable-native-access=ALL-UNNAMED", "-Xmx64m", "-cp",
                    System.getProperty("java.class.path"), ColdStartProbe.class.getName(), getClass().getName(),
                    "100000").redirectErrorStream(true).redirectOutput(out.toFile()).start();
            boolean finished = p.waitFor(60, TimeUnit.SECONDS);
            if (!finished) {
                p.destroyForcibly().waitFor();
            }
            p.getOutputStream().close(); // the pipe to its stdin: counted by the suite's fd check
            p.getInputStream().close();
            p.getErrorStream().close();
            String text = java.nio.file.Files.readString(out);
            assertTrue(finished, "the probe JVM on " + monitorName() + " did not finish within 60 s: its blocking"
                    + " poll never saw work that only the poll callback shows. Output:\n" + text);
            assertEquals(0, p.exitValue(), text);
            assertTrue(text.contains("busy polling found the work: poll-ready 1, fd reads 1"), text);
        } finally {
            java.nio.file.Files.deleteIfExists(out);
        }
    }

    // ---- helpers

    int[] pipe() {
        int[] p = Fds.pipe();
        toClose.add(p[0]);
        toClose.add(p[1]);
        return p;
    }

    int[] socketPair() {
        int[] p = Fds.socketPair();
        toClose.add(p[0]);
        toClose.add(p[1]);
        return p;
    }

    /**
     * Polls (blocking, but never longer than 20 ms at a time) until {@code done} or 5 s pass.
     * The guard timer is re-armed only after it fired: arming a timer wakes the loop (QEMU's
     * timer_mod notifies), and with every handler pollable a woken poll examines no fd.
     */
    void pollUntil(BooleanSupplier done, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, () -> "timed out waiting for " + what + "; " + ctx.stats());
            if (!tick.isPending()) {
                tick.modNs(ctx.clocks().nowNs(ClockType.REALTIME) + 20_000_000L);
            }
            ctx.poll(true);
        }
        tick.cancel();
    }

    /** A few short rounds (each blocks at most about 1 ms): whatever is ready now gets dispatched. */
    void pollRounds(int n) {
        for (int i = 0; i < n; i++) {
            if (!tick.isPending()) {
                tick.modNs(ctx.clocks().nowNs(ClockType.REALTIME) + 1_000_000L);
            }
            ctx.poll(true);
        }
        tick.cancel();
    }

    // ---- readiness

    @Test
    void readableFires() {
        int[] p = pipe();
        AtomicInteger reads = new AtomicInteger();
        ctx.setFdHandler(p[0], () -> {
            Io.drain(p[0]);
            reads.incrementAndGet();
        }, null);
        pollRounds(3);
        assertEquals(0, reads.get(), "an empty pipe is not readable");
        Io.write(p[1], 5);
        pollUntil(() -> reads.get() == 1, "the read handler");
        ctx.removeFdHandler(p[0]);
    }

    @Test
    void writableFires() {
        int[] p = pipe();
        AtomicInteger writes = new AtomicInteger();
        ctx.setFdHandler(p[1], null, writes::incrementAndGet);
        pollUntil(() -> writes.get() >= 1, "the write handler");
        ctx.removeFdHandler(p[1]);
    }

    @Test
    void hangUpWakesTheReader() {
        int[] p = pipe();
        AtomicInteger eof = new AtomicInteger();
        ctx.setFdHandler(p[0], () -> {
            if (Io.drain(p[0]) == -1) {
                eof.incrementAndGet();
                ctx.removeFdHandler(p[0]);
            }
        }, null);
        pollRounds(2);
        Fds.close(p[1]);
        pollUntil(() -> eof.get() == 1, "HUP on the read end");
    }

    @Test
    void errorWakesTheWriter() {
        int[] p = pipe();
        AtomicInteger errs = new AtomicInteger();
        // fill the pipe so the write end is not writable: only the error can wake it
        while (Io.write(p[1], 65536) > 0) {
            // fill
        }
        ctx.setFdHandler(p[1], null, () -> {
            errs.incrementAndGet();
            ctx.removeFdHandler(p[1]);
        });
        pollRounds(2);
        assertEquals(0, errs.get(), "a full pipe is not writable");
        Fds.close(p[0]); // the reader goes away: POLLERR on the write end
        pollUntil(() -> errs.get() == 1, "ERR on the write end");
    }

    @Test
    void socketHangUpAndData() {
        int[] s = socketPair();
        AtomicInteger reads = new AtomicInteger();
        List<Integer> got = new ArrayList<>();
        ctx.setFdHandler(s[0], () -> {
            reads.incrementAndGet();
            int n = Io.drain(s[0]);
            got.add(n);
            if (n == -1) {
                ctx.removeFdHandler(s[0]);
            }
        }, null);
        Io.write(s[1], 3);
        pollUntil(() -> got.contains(3), "socket data");
        Fds.close(s[1]);
        pollUntil(() -> got.contains(-1), "socket hang-up");
    }

    @Test
    void levelTriggeredReportsAgainUntilDrained() {
        int[] p = pipe();
        AtomicInteger calls = new AtomicInteger();
        ctx.setFdHandler(p[0], calls::incrementAndGet, null); // never reads
        Io.write(p[1], 1);
        for (int i = 0; i < 10; i++) {
            int before = calls.get();
            pollUntil(() -> calls.get() > before, "readable again (" + i + ")");
        }
        assertTrue(calls.get() >= 10, "reported on every wait while data stays: " + calls.get());
        Io.drain(p[0]);
        int settled = calls.get();
        pollRounds(3);
        assertTrue(calls.get() <= settled + 1, "stops once drained");
        ctx.removeFdHandler(p[0]);
    }

    // ---- handler changes during dispatch

    @Test
    void handlerReplacedDuringDispatch() {
        int[] p = pipe();
        AtomicInteger first = new AtomicInteger();
        AtomicInteger second = new AtomicInteger();
        ctx.setFdHandler(p[0], () -> {
            first.incrementAndGet();
            ctx.setFdHandler(p[0], () -> {
                second.incrementAndGet();
                Io.drain(p[0]);
            }, null);
        }, null);
        Io.write(p[1], 1);
        pollUntil(() -> second.get() == 1, "the replacement handler");
        assertEquals(1, first.get(), "the replaced handler never runs again");
        Io.write(p[1], 1);
        pollUntil(() -> second.get() == 2, "the replacement handler again");
        assertEquals(1, first.get(), "the replaced handler never runs again");
        ctx.removeFdHandler(p[0]);
    }

    @Test
    void handlerRemovedDuringDispatchIsNeverCalled() {
        int[] a = pipe();
        int[] b = pipe();
        AtomicInteger aCalls = new AtomicInteger();
        AtomicInteger bCalls = new AtomicInteger();
        // Both fds become ready in the same wait; whichever handler runs first removes the
        // other, which then must not run although its fd was reported ready.
        ctx.setFdHandler(a[0], () -> {
            aCalls.incrementAndGet();
            Io.drain(a[0]);
            ctx.removeFdHandler(b[0]);
        }, null);
        ctx.setFdHandler(b[0], () -> {
            bCalls.incrementAndGet();
            Io.drain(b[0]);
            ctx.removeFdHandler(a[0]);
        }, null);
        pollRounds(2);
        Io.write(a[1], 1);
        Io.write(b[1], 1);
        pollUntil(() -> aCalls.get() + bCalls.get() >= 1, "one of the two handlers");
        Io.write(a[1], 1);
        Io.write(b[1], 1);
        pollRounds(5);
        assertEquals(0, Math.min(aCalls.get(), bCalls.get()), "the removed handler never ran: a=" + aCalls + " b=" + bCalls);
        assertTrue(Math.max(aCalls.get(), bCalls.get()) >= 1, "the survivor ran");
        ctx.removeFdHandler(a[0]);
        ctx.removeFdHandler(b[0]);
    }

    @Test
    void removedHandlerIsNotCalledForPendingData() {
        int[] p = pipe();
        AtomicInteger calls = new AtomicInteger();
        ctx.setFdHandler(p[0], calls::incrementAndGet, null);
        pollRounds(1);
        Io.write(p[1], 1);
        ctx.removeFdHandler(p[0]);
        pollRounds(5);
        assertEquals(0, calls.get(), "never called after removal");
    }

    /**
     * Once its handler is removed on the home thread, closing an fd releases the file at
     * once: a server that closes its listening socket can bind the port again straight away,
     * without waiting for the loop's next wait. Both when the loop is idle and from a bottom
     * half, where a server's close runs. Removed from another thread, it is released once
     * the loop has waited again.
     */
    @Test
    void closingAnFdAfterItsRemovalReleasesItsFileAtOnce() throws InterruptedException {
        int listen = Sockets.listenTcp("127.0.0.1", 0, 8);
        int port = Sockets.localPort(listen);
        ctx.setFdHandler(listen, () -> { }, null);
        pollRounds(2); // watched by the kernel now
        ctx.removeFdHandler(listen);
        Fds.close(listen);
        Fds.close(Sockets.listenTcp("127.0.0.1", port, 8)); // EADDRINUSE while anything holds the old socket

        int second = Sockets.listenTcp("127.0.0.1", port, 8);
        ctx.setFdHandler(second, () -> { }, null);
        pollRounds(2);
        AtomicInteger rebound = new AtomicInteger(-1);
        ctx.scheduleOneshot("close-and-rebind", () -> {
            ctx.removeFdHandler(second);
            Fds.close(second);
            rebound.set(Sockets.listenTcp("127.0.0.1", port, 8));
        });
        pollUntil(() -> rebound.get() >= 0 || !failures.lines().isEmpty(), "the bottom half closing and rebinding");
        failures.assertNone();

        // From another thread: once the loop has waited again (the removal returns at the
        // end of the iteration under way, whose wait may have begun before it).
        int third = rebound.get();
        ctx.setFdHandler(third, () -> { }, null);
        pollRounds(2);
        List<Throwable> thrown = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean removed = new java.util.concurrent.atomic.AtomicBoolean();
        Thread other = Thread.ofPlatform().name("remover").start(() -> {
            try {
                ctx.removeFdHandler(third);
                removed.set(true);
            } catch (RuntimeException e) {
                thrown.add(e);
            }
        });
        pollUntil(() -> removed.get() || !thrown.isEmpty(), "the other thread's removal");
        other.join();
        assertEquals(List.of(), thrown);
        pollRounds(1);
        Fds.close(third);
        Fds.close(Sockets.listenTcp("127.0.0.1", port, 8));
    }

    /**
     * Removing the handler of an fd leaves the handler of a dup of it (same file, another
     * number) watching: readiness still reaches it.
     */
    @Test
    void aDupsHandlerOutlivesTheRemovalOfTheOriginals() {
        int[] p = pipe();
        int dup = Fds.dup(p[0]);
        toClose.add(dup);
        AtomicInteger originalCalls = new AtomicInteger();
        AtomicInteger dupCalls = new AtomicInteger();
        ctx.setFdHandler(p[0], originalCalls::incrementAndGet, null);
        ctx.setFdHandler(dup, () -> {
            Io.drain(dup);
            dupCalls.incrementAndGet();
        }, null);
        pollRounds(2);
        ctx.removeFdHandler(p[0]);
        pollRounds(2);
        Io.write(p[1], 1);
        pollUntil(() -> dupCalls.get() == 1, "the dup's handler after the original's removal");
        assertEquals(0, originalCalls.get(), "the removed handler never ran");
        ctx.removeFdHandler(dup);
    }

    // ---- closed and reused fds

    @Test
    void fdClosedWhileRegisteredDoesNotBreakTheLoop() {
        int[] victim = pipe();
        int[] other = pipe();
        AtomicInteger victimCalls = new AtomicInteger();
        AtomicInteger otherCalls = new AtomicInteger();
        ctx.setFdHandler(victim[0], victimCalls::incrementAndGet, null);
        ctx.setFdHandler(other[0], () -> {
            Io.drain(other[0]);
            otherCalls.incrementAndGet();
        }, null);
        pollRounds(2);
        Fds.close(victim[0]); // user error, but the loop must survive it
        pollRounds(3);
        Io.write(other[1], 1);
        pollUntil(() -> otherCalls.get() == 1, "the other handler after a registered fd was closed");
        ctx.removeFdHandler(victim[0]); // may already be gone (poll(2) reports POLLNVAL)
        Io.write(other[1], 1);
        pollUntil(() -> otherCalls.get() == 2, "the other handler after the removal");
        assertEquals(0, victimCalls.get(), "nothing was readable on the closed fd");
        // poll(2) reports POLLNVAL and the context drops the handler, saying so; others are silent.
        failures.removeIf(f -> f.contains("fd " + victim[0] + " was closed"));
        ctx.removeFdHandler(other[0]);
    }

    @Test
    void fdNumberReusedAfterClose() {
        int[] first = Fds.pipe();
        int fd = first[0];
        AtomicInteger oldCalls = new AtomicInteger();
        ctx.setFdHandler(fd, oldCalls::incrementAndGet, null);
        pollRounds(1);
        Io.write(first[1], 1); // ready, possibly already seen by the kernel
        ctx.removeFdHandler(fd);
        Fds.close(first[0]);
        Fds.close(first[1]);
        int[] second = pipe();
        assertEquals(fd, second[0], "the lowest free number is reused");
        AtomicInteger newCalls = new AtomicInteger();
        ctx.setFdHandler(fd, () -> {
            Io.drain(fd);
            newCalls.incrementAndGet();
        }, null);
        pollRounds(5);
        assertEquals(0, newCalls.get(), "the old fd's readiness is not delivered to the new registration");
        assertEquals(0, oldCalls.get(), "the removed handler never ran");
        Io.write(second[1], 1);
        pollUntil(() -> newCalls.get() == 1, "the new registration");
        ctx.removeFdHandler(fd);
    }

    @Test
    void fdClosedAndNumberReusedWithoutRemoval() {
        int[] first = Fds.pipe();
        int fd = first[0];
        AtomicInteger oldCalls = new AtomicInteger();
        ctx.setFdHandler(fd, oldCalls::incrementAndGet, null);
        pollRounds(1);
        Fds.close(first[0]); // the write end stays open, so the old pipe never hangs up
        int[] second = pipe();
        assertEquals(fd, second[0], "the lowest free number is reused");
        AtomicInteger newCalls = new AtomicInteger();
        // Replacing the stale registration of the reused number (the kernel may have dropped it).
        ctx.setFdHandler(fd, () -> {
            Io.drain(fd);
            newCalls.incrementAndGet();
        }, null);
        Io.write(second[1], 1);
        pollUntil(() -> newCalls.get() == 1, "the handler of the reused fd");
        Fds.close(first[1]);
        pollRounds(3);
        assertEquals(0, oldCalls.get(), "the old handler never ran");
        ctx.removeFdHandler(fd);
        failures.removeIf(f -> f.contains("fd " + fd + " was closed"));
    }

    // ---- many fds

    @ParameterizedTest
    @ValueSource(ints = {1, 64, 1024})
    void manyFdsAllDispatched(int n) {
        EventFd[] efds = new EventFd[n];
        int[] calls = new int[n];
        try {
            for (int i = 0; i < n; i++) {
                efds[i] = EventFd.open(false);
                int k = i;
                ctx.setFdHandler(efds[i].fd(), () -> {
                    efds[k].testAndClear();
                    calls[k]++;
                }, null);
            }
            for (int round = 1; round <= 2; round++) {
                for (EventFd e : efds) {
                    e.set();
                }
                int want = round;
                pollUntil(() -> Arrays.stream(calls).allMatch(c -> c >= want), n + " fds in round " + round);
                pollRounds(2);
                for (int i = 0; i < n; i++) {
                    assertEquals(round, calls[i], "fd #" + i + " dispatched once per write");
                }
            }
        } finally {
            for (EventFd e : efds) {
                if (e != null) {
                    ctx.removeFdHandler(e.fd());
                    e.close();
                }
            }
        }
    }

    // ---- timeouts and wake-ups

    @Test
    void timeoutsHaveSubMillisecondPrecision() {
        // A millisecond-granular wait sleeps at least 1 ms every time; a nanosecond one can
        // return in under 1 ms. One round under 1 ms shows the precision: rounds are
        // repeated until one is (at most 200), so a loaded machine that delays some wake-ups
        // does not fail the test, while a wait rounded up to 1 ms never passes.
        List<Long> elapsed = new ArrayList<>();
        AtomicInteger fired = new AtomicInteger();
        AioTimer t = ctx.newTimer(ClockType.REALTIME, TimeScale.NS, fired::incrementAndGet);
        pollRounds(1);
        long fastest = Long.MAX_VALUE;
        for (int i = 0; i < 200 && fastest >= 1_000_000L; i++) {
            long start = System.nanoTime();
            t.modNs(ctx.clocks().nowNs(ClockType.REALTIME) + 200_000L);
            int want = i + 1;
            while (fired.get() < want) {
                ctx.poll(true);
            }
            long took = System.nanoTime() - start;
            elapsed.add(took);
            fastest = Math.min(fastest, took);
            assertTrue(took >= 200_000L, () -> "never early: " + elapsed);
        }
        long best = fastest;
        assertTrue(best < 1_000_000L, () -> "no 200 us wait returned within 1 ms: " + elapsed);
    }

    @Test
    void blockingPollWokenByAnotherThread() throws Exception {
        pollRounds(2); // consume the registration wake-ups
        CountDownLatch inPoll = new CountDownLatch(1);
        Thread waker = new Thread(() -> {
            try {
                inPoll.await();
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ctx.wakeUp();
        }, "waker");
        waker.start();
        long start = System.nanoTime();
        inPoll.countDown();
        boolean progress = ctx.poll(true);
        long ns = System.nanoTime() - start;
        waker.join();
        assertFalse(progress, "a wake-up alone is not progress");
        assertTrue(ns >= 40_000_000L, "it blocked until woken: " + ns + " ns");
    }

    @Test
    void handlerAddedFromAnotherThreadWakesTheLoop() throws Exception {
        pollRounds(2);
        int[] p = pipe();
        Io.write(p[1], 1);
        AtomicInteger calls = new AtomicInteger();
        Thread adder = new Thread(() -> {
            try {
                Thread.sleep(30);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ctx.setFdHandler(p[0], () -> {
                Io.drain(p[0]);
                calls.incrementAndGet();
            }, null);
        }, "adder");
        adder.start();
        pollUntil(() -> calls.get() == 1, "a handler registered by another thread while the loop blocked");
        adder.join();
        ctx.removeFdHandler(p[0]);
    }

    // ---- nesting

    @Test
    void nestedPollDispatchesOtherFds() {
        int[] outer = pipe();
        int[] inner = pipe();
        AtomicInteger innerCalls = new AtomicInteger();
        AtomicInteger outerCalls = new AtomicInteger();
        ctx.setFdHandler(inner[0], () -> {
            Io.drain(inner[0]);
            innerCalls.incrementAndGet();
        }, null);
        ctx.setFdHandler(outer[0], () -> {
            Io.drain(outer[0]);
            outerCalls.incrementAndGet();
            Io.write(inner[1], 1);
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (innerCalls.get() == 0 && System.nanoTime() < deadline) {
                ctx.poll(false);
            }
        }, null);
        Io.write(outer[1], 1);
        pollUntil(() -> outerCalls.get() == 1, "the outer handler");
        assertEquals(1, innerCalls.get(), "the nested poll dispatched the inner fd");
        pollRounds(3);
        assertEquals(1, outerCalls.get(), "the outer handler ran once");
        assertEquals(1, innerCalls.get(), "the inner handler ran once");
        ctx.removeFdHandler(inner[0]);
        ctx.removeFdHandler(outer[0]);
    }

    // ---- driven by an external loop (QEMU's GSource path)

    /** One iteration of a glib-like loop: prepare, ppoll the source's fds, check, dispatch. */
    private boolean externalIteration(org.aiolos.linux.PollSet set) {
        org.aiolos.api.ExternalLoopSource src = ctx.externalLoopSource();
        long timeout = src.prepare();
        List<org.aiolos.api.PollFd> fds = src.pollFds();
        set.ensureCapacity(Math.max(1, fds.size()));
        for (int i = 0; i < fds.size(); i++) {
            set.set(i, fds.get(i).fd(), fds.get(i).events());
        }
        long wait = timeout < 0 || timeout > 20_000_000L ? 20_000_000L : timeout;
        set.ppoll(fds.size(), wait);
        for (int i = 0; i < fds.size(); i++) {
            fds.get(i).setRevents(set.revents(i));
        }
        return src.check() && src.dispatch();
    }

    @Test
    void externalLoopDrivesTheHandlers() {
        int[] p = pipe();
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger drained = new AtomicInteger();
        ctx.setFdHandler(p[0], () -> {
            calls.incrementAndGet();
            if (drained.get() == 0 && calls.get() >= 3) {
                Io.drain(p[0]); // level-triggered: called until drained
                drained.set(calls.get());
            }
        }, null);
        try (org.aiolos.linux.PollSet set = new org.aiolos.linux.PollSet()) {
            for (int i = 0; i < 3; i++) {
                externalIteration(set); // settle the registration wake-ups
            }
            assertEquals(0, calls.get(), "nothing readable yet");
            Io.write(p[1], 1);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (drained.get() == 0 && System.nanoTime() < deadline) {
                externalIteration(set);
            }
            assertEquals(3, drained.get(), "reported on each external iteration until drained");
            for (int i = 0; i < 3; i++) {
                externalIteration(set);
            }
            assertEquals(3, calls.get(), "quiet once drained");
        }
        ctx.removeFdHandler(p[0]);
    }

    // ---- adaptive polling

    @Test
    void adaptivePollingOnUsesThePollCallback() {
        // A generous maximum so that scheduling noise on a small machine does not keep
        // shrinking the poll time back to 0 (block_ns > max resets it,
        // adjust_polling_time in util/aio-posix.c).
        ctx.setPollParams(1_000_000, 0, 0);
        EventFd e = EventFd.open(false);
        AtomicInteger polls = new AtomicInteger();
        AtomicInteger ready = new AtomicInteger();
        AtomicInteger reads = new AtomicInteger();
        boolean[] flag = new boolean[1];
        ctx.setFdHandler(e.fd(), () -> {
            e.testAndClear();
            reads.incrementAndGet();
        }, null, () -> {
            polls.incrementAndGet();
            return flag[0];
        }, () -> {
            flag[0] = false;
            ready.incrementAndGet();
        });
        try {
            for (int i = 0; i < 20; i++) {
                warmUp(e, reads);
                // Only the poll callback says "ready": the fd stays quiet, so busy polling
                // is the only way this event can be found.
                flag[0] = true;
                int before = ready.get();
                pollUntil(() -> ready.get() > before, "poll-ready dispatch " + i);
            }
            assertTrue(polls.get() >= 20, "busy polling called the poll callback: " + polls);
        } finally {
            ctx.removeFdHandler(e.fd());
            e.close();
        }
    }

    /** Fd-driven dispatches until the handler is on the poll list with a poll time above 0. */
    private void warmUp(EventFd e, AtomicInteger reads) {
        for (int i = 0; i < 500 && ctx.pollNsOf(e.fd()) <= 0; i++) {
            e.set();
            int before = reads.get();
            pollUntil(() -> reads.get() > before, "fd dispatch while warming up polling");
        }
        assertTrue(ctx.pollNsOf(e.fd()) > 0, "the poll time grew after quick dispatches: " + ctx.pollNsOf(e.fd()));
    }

    @Test
    void adaptivePollingOffNeverPolls() {
        ctx.setPollParams(0, 0, 0);
        EventFd e = EventFd.open(false);
        AtomicInteger polls = new AtomicInteger();
        AtomicInteger reads = new AtomicInteger();
        ctx.setFdHandler(e.fd(), () -> {
            e.testAndClear();
            reads.incrementAndGet();
        }, null, () -> {
            polls.incrementAndGet();
            return false;
        }, () -> { });
        try {
            for (int i = 0; i < 10; i++) {
                e.set();
                int want = i + 1;
                pollUntil(() -> reads.get() >= want, "dispatch " + i);
            }
            assertEquals(0, polls.get(), "with poll-max-ns 0 the poll callback is never called");
        } finally {
            ctx.removeFdHandler(e.fd());
            e.close();
        }
    }
}
