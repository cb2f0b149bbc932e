package org.aiolos.core.fdmon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.fdmon.epoll.EpollFdMonitorFactory;
import org.aiolos.fdmon.iouring.IoUringFdMonitorFactory;
import org.aiolos.fdmon.poll.PollFdMonitorFactory;
import org.aiolos.linux.Errno;
import org.aiolos.linux.Fds;
import org.aiolos.linux.SyscallException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The two io_uring monitor findings, root-caused and pinned down next to what poll and
 * epoll do with the same input (docs/fdmon.md, "What each monitor reports").
 *
 * <ol>
 *   <li><b>A read handler called on an fd that is already drained.</b> io_uring reports
 *       readiness as of the moment its one-shot POLL_ADD completed, not of the wait that
 *       reaps the completion: if the fd was drained in between, the handler still runs and
 *       its non-blocking read gets EAGAIN. poll and epoll look at the fd during the wait and
 *       do not call it. QEMU's {@code fdmon-io_uring.c} behaves the same; handlers must use
 *       non-blocking fds, as QEMU's do.</li>
 *   <li><b>An fd closed while registered is not reported during non-blocking polls.</b>
 *       An armed POLL_ADD holds a reference to the file, so {@code close(2)} of the number
 *       neither completes nor cancels it: nothing is reported, by non-blocking or blocking
 *       polls, until the file itself has an event (then the handler runs once, its re-arm by
 *       number fails with EBADF and the context drops it, saying so) or the handler is
 *       removed (POLL_REMOVE lets the file go). poll(2) reports POLLNVAL at once; epoll
 *       forgets the fd silently when its file closes.</li>
 * </ol>
 * Harmless for the loop in every case: it keeps running, nothing spins, no callback runs
 * for a file that has no event.
 */
class StaleReadinessAndClosedFdTest {
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final Arena arena = Arena.ofShared();
    private AiolosContext ctx;

    private AiolosContext open(String monitor) {
        FdMonitorFactory f = switch (monitor) {
            case "poll" -> new PollFdMonitorFactory();
            case "epoll" -> new EpollFdMonitorFactory();
            default -> new IoUringFdMonitorFactory();
        };
        Assumptions.assumeTrue(f.unavailableReason() == null, () -> monitor + ": " + f.unavailableReason());
        FdMonitorProviders providers = new FdMonitorProviders();
        providers.add(f, 0);
        ctx = Aiolos.newContext(ContextOptions.defaults("findings-" + monitor).withFdMonitor(monitor)
                .withFdMonitors(providers).withFailureHandler((c, source, failure) -> failures.add(failure.getMessage())));
        ctx.poll(false);
        assertEquals(monitor, ctx.fdMonitorName());
        return ctx;
    }

    @AfterEach
    void close() {
        if (ctx != null) {
            ctx.close();
        }
        arena.close();
    }

    private void pollRounds(int n) {
        for (int i = 0; i < n; i++) {
            ctx.poll(false);
        }
    }

    /** A bottom half scheduled now runs at the next poll: the loop is alive. */
    private void assertLoopRuns() {
        AtomicInteger ran = new AtomicInteger();
        ctx.scheduleOneshot("alive", ran::incrementAndGet);
        ctx.poll(false);
        assertEquals(1, ran.get(), "the loop keeps running");
    }

    @ParameterizedTest
    @ValueSource(strings = {"poll", "epoll", "io_uring"})
    void readinessDrainedBeforeTheWaitReachesTheHandlerOnlyOnIoUring(String monitor) {
        open(monitor);
        int[] p = Fds.pipe(); // non-blocking, as a handler's fd must be
        MemorySegment buf = arena.allocate(64);
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger eagain = new AtomicInteger();
        AtomicInteger bytes = new AtomicInteger();
        ctx.setFdHandler(p[0], () -> {
            calls.incrementAndGet();
            int n = Fds.read(p[0], buf, 64);
            if (n == -Errno.EAGAIN) {
                eagain.incrementAndGet();
            } else if (n > 0) {
                bytes.addAndGet(n);
            }
        }, null);
        pollRounds(2); // the POLL_ADD is in the kernel
        Fds.write(p[1], buf, 1);
        assertEquals(1, Fds.read(p[0], buf, 64), "someone else drains the fd before the loop waits");
        pollRounds(5);
        if (monitor.equals("io_uring")) {
            assertEquals(1, calls.get(), "io_uring reports the readiness its POLL_ADD saw");
            assertEquals(1, eagain.get(), "the handler finds the fd drained: EAGAIN, nothing lost");
        } else {
            assertEquals(0, calls.get(), monitor + " looks at the fd during the wait");
        }
        Fds.write(p[1], buf, 3);
        for (int i = 0; i < 1000 && bytes.get() < 3; i++) {
            ctx.poll(false);
        }
        assertEquals(3, bytes.get(), "later data is delivered as usual");
        assertLoopRuns();
        ctx.removeFdHandler(p[0]);
        Fds.close(p[0]);
        Fds.close(p[1]);
        assertTrue(failures.isEmpty(), failures.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"poll", "epoll", "io_uring"})
    void anFdClosedWhileRegisteredIsReportedAsEachKernelInterfaceAllows(String monitor) {
        open(monitor);
        int[] p = Fds.pipe();
        MemorySegment buf = arena.allocate(8);
        AtomicInteger calls = new AtomicInteger();
        ctx.setFdHandler(p[0], calls::incrementAndGet, null);
        pollRounds(2);
        Fds.close(p[0]); // user error: closed while its handler is registered
        pollRounds(2_000);
        assertLoopRuns();
        String report = "fd " + p[0] + " was closed while its handler was registered";
        switch (monitor) {
            case "poll" -> assertTrue(failures.stream().anyMatch(f -> f.startsWith(report)),
                    "poll(2) says POLLNVAL at once: " + failures);
            case "epoll", "io_uring" -> assertTrue(failures.isEmpty(), monitor + " has nothing to report yet: "
                    + failures);
            default -> throw new AssertionError(monitor);
        }
        assertEquals(0, calls.get(), "no callback for a file without an event");
        if (monitor.equals("io_uring")) {
            // The armed POLL_ADD still holds the pipe's read side open: a write is accepted.
            assertEquals(1, Fds.write(p[1], buf, 1), "the read side is still open in the kernel");
            pollRounds(3);
            // That data was an event of the file: the handler ran once, its re-arm by number
            // failed with EBADF, and the context dropped the handler, saying so.
            assertEquals(1, calls.get());
            assertTrue(failures.stream().anyMatch(f -> f.startsWith(report)), failures.toString());
            // With the handler gone, the kernel let the file go: the pipe has no reader left.
            SyscallException epipe = null;
            for (int i = 0; i < 1000 && epipe == null; i++) {
                ctx.poll(false);
                try {
                    Fds.write(p[1], buf, 1);
                } catch (SyscallException e) {
                    epipe = e;
                }
            }
            assertTrue(epipe != null && epipe.errno() == Errno.EPIPE, "the read side was released: " + epipe);
        }
        ctx.removeFdHandler(p[0]); // a no-op where the context already dropped it
        pollRounds(2);
        Fds.close(p[1]);
        assertLoopRuns();
    }

    @org.junit.jupiter.api.Test
    void removingTheHandlerOfAClosedFdReleasesItsFileOnIoUring() {
        open("io_uring");
        int[] p = Fds.pipe();
        MemorySegment buf = arena.allocate(8);
        ctx.setFdHandler(p[0], () -> { }, null);
        pollRounds(2);
        Fds.close(p[0]);
        pollRounds(10);
        assertEquals(1, Fds.write(p[1], buf, 1), "pinned by the armed POLL_ADD");
        ctx.removeFdHandler(p[0]); // POLL_REMOVE: the kernel drops its reference
        SyscallException epipe = null;
        for (int i = 0; i < 1000 && epipe == null; i++) {
            ctx.poll(false);
            try {
                Fds.write(p[1], buf, 1);
            } catch (SyscallException e) {
                epipe = e;
            }
        }
        assertTrue(epipe != null && epipe.errno() == Errno.EPIPE, "released after the removal: " + epipe);
        Fds.close(p[1]);
        assertLoopRuns();
    }
}
