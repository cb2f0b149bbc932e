package org.aiolos.core.fdmon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.ContextOptions;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.fdmon.epoll.EpollFdMonitorFactory;
import org.aiolos.fdmon.iouring.IoUringFdMonitorFactory;
import org.aiolos.fdmon.poll.PollFdMonitorFactory;
import org.aiolos.linux.Errno;
import org.aiolos.linux.EventFd;
import org.aiolos.linux.faults.Faults;
import org.aiolos.linux.Fds;
import org.aiolos.linux.Sockets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU's selection policy ({@code aio_context_setup} in {@code util/aio-posix.c},
 * {@code fdmon_epoll_try_upgrade} in {@code util/fdmon-epoll.c}) with real providers: io_uring
 * first, otherwise poll
 * upgrading to epoll at 64 fds; epoll given up for good after an epoll_ctl failure;
 * io_uring that cannot be set up reported with its errno; swaps when providers come and go.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MonitorSelectionTest {
    private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    private final List<EventFd> eventFds = new ArrayList<>();
    private AiolosContext ctx;
    private int fdsBefore;

    @TempDir
    Path tmp;

    @BeforeEach
    void countFds() {
        fdsBefore = Fds.openFdCount();
    }

    @AfterEach
    void cleanUp() {
        Faults.clear();
        if (ctx != null) {
            for (EventFd e : eventFds) {
                ctx.removeFdHandler(e.fd());
            }
            ctx.close();
        }
        eventFds.forEach(EventFd::close);
        assertEquals(List.of(), failures, "callback failures");
        assertEquals(fdsBefore, Fds.openFdCount(), "open fds before/after");
    }

    private AiolosContext context(String configured, FdMonitorFactory... factories) {
        FdMonitorProviders providers = new FdMonitorProviders();
        for (FdMonitorFactory f : factories) {
            providers.add(f, 0);
        }
        return Aiolos.newContext(ContextOptions.defaults("selection").withFdMonitor(configured).withFdMonitors(providers)
                .withFailureHandler((c, source, failure) -> failures.add(source + ": " + failure)));
    }

    private void pollUntil(BooleanSupplier done, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, () -> "timed out waiting for " + what + "; " + ctx.stats());
            ctx.poll(false);
        }
    }

    private void addEventFds(int n, AtomicInteger calls) {
        for (int i = 0; i < n; i++) {
            EventFd e = EventFd.open(false);
            eventFds.add(e);
            ctx.setFdHandler(e.fd(), () -> {
                e.testAndClear();
                calls.incrementAndGet();
            }, null);
        }
    }

    @Test
    void ioUringFirstWhenAvailable() {
        ctx = context(null, new PollFdMonitorFactory(), new EpollFdMonitorFactory(), new IoUringFdMonitorFactory());
        assertEquals("io_uring", ctx.fdMonitorName());
        assertNull(ctx.fdMonitorNote());
    }

    @Test
    void pollUpgradesToEpollAt64Fds() {
        ctx = context(null, new PollFdMonitorFactory(), new EpollFdMonitorFactory());
        AtomicInteger calls = new AtomicInteger();
        addEventFds(62, calls); // 63 with the notifier
        ctx.poll(false);
        assertEquals("poll", ctx.fdMonitorName(), "63 fds: still poll");
        addEventFds(1, calls);
        ctx.poll(false);
        assertEquals("epoll", ctx.fdMonitorName(), "64 fds: epoll");
        eventFds.forEach(EventFd::set);
        pollUntil(() -> calls.get() == 63, "every handler after the upgrade");
        for (EventFd e : eventFds.subList(0, 10)) {
            ctx.removeFdHandler(e.fd());
        }
        ctx.poll(false);
        assertEquals("epoll", ctx.fdMonitorName(), "no automatic downgrade below 64, as in QEMU");
    }

    @Test
    void epollCtlFailureFallsBackToPollForGood() throws IOException {
        ctx = context("epoll", new PollFdMonitorFactory(), new EpollFdMonitorFactory());
        assertEquals("epoll", ctx.fdMonitorName());
        AtomicInteger calls = new AtomicInteger();
        addEventFds(3, calls);
        Path file = Files.writeString(tmp.resolve("regular"), "data");
        int fd = org.aiolos.linux.Files.open(file.toString(), org.aiolos.linux.Files.O_RDONLY, 0);
        try {
            AtomicInteger fileReads = new AtomicInteger();
            // epoll cannot watch a regular file: EPERM from epoll_ctl(ADD).
            ctx.setFdHandler(fd, fileReads::incrementAndGet, null);
            pollUntil(() -> fileReads.get() > 0, "the regular file's handler (poll(2) reports files always ready)");
            assertEquals("poll", ctx.fdMonitorName(), "moved to poll");
            String note = ctx.fdMonitorNote();
            assertNotNull(note, "the context says why it is not on epoll");
            assertTrue(note.contains("EPERM"), note);
            assertTrue(note.contains("epoll"), note);
            eventFds.forEach(EventFd::set);
            pollUntil(() -> calls.get() == 3, "the earlier handlers, re-registered in poll without loss");
            ctx.removeFdHandler(fd);
            // epoll is disabled for this context: even at 64 fds, and even when asked again.
            addEventFds(70, calls);
            ctx.useFdMonitor(null);
            ctx.poll(false);
            ctx.poll(false);
            assertEquals("poll", ctx.fdMonitorName(), "never picks epoll again");
        } finally {
            Fds.close(fd);
        }
    }

    @Test
    void ioUringSetupFailureFallsBackAndSaysWhy() {
        Faults.failAlways("io_uring_setup", Errno.EPERM);
        IoUringFdMonitorFactory uring = new IoUringFdMonitorFactory();
        assertEquals("io_uring_setup failed: EPERM (Operation not permitted)", uring.unavailableReason());
        ctx = context(null, new PollFdMonitorFactory(), new EpollFdMonitorFactory(), uring);
        assertEquals("poll", ctx.fdMonitorName(), "QEMU's policy without io_uring starts on poll");
        assertEquals("io_uring unavailable: io_uring_setup failed: EPERM (Operation not permitted)", ctx.fdMonitorNote());
        AtomicInteger calls = new AtomicInteger();
        addEventFds(70, calls);
        ctx.poll(false);
        assertEquals("epoll", ctx.fdMonitorName(), "and upgrades to epoll at 64 fds");
        eventFds.forEach(EventFd::set);
        pollUntil(() -> calls.get() == 70, "every handler");
    }

    @Test
    void aConfiguredMonitorThatBecomesAvailableWhileChosenIsTakenNotReportedAsUnavailable() {
        // Unavailable when first asked, available from the next question on: what a provider
        // registered between the choice's two reads looks like (a bundle started meanwhile).
        EpollFdMonitorFactory epoll = new EpollFdMonitorFactory();
        AtomicInteger asked = new AtomicInteger();
        FdMonitorFactory late = new FdMonitorFactory() {
            @Override
            public String name() {
                return epoll.name();
            }

            @Override
            public String unavailableReason() {
                return asked.getAndIncrement() == 0 ? "not registered yet" : null;
            }

            @Override
            public org.aiolos.api.fdmon.FdMonitor open(org.aiolos.api.fdmon.FdMonitorHost host) {
                return epoll.open(host);
            }
        };
        ctx = context("epoll", new PollFdMonitorFactory(), late);
        assertEquals("epoll", ctx.fdMonitorName());
        assertNull(ctx.fdMonitorNote(), "before: configured fd monitor 'epoll' is not available (available)");
    }

    @Test
    void configuredIoUringThatCannotWorkSaysWhy() {
        Faults.failAlways("io_uring_setup", Errno.EPERM);
        ctx = context("io_uring", new PollFdMonitorFactory(), new IoUringFdMonitorFactory());
        assertEquals("poll", ctx.fdMonitorName());
        assertEquals("configured fd monitor 'io_uring' is not available (io_uring_setup failed: EPERM (Operation not "
                + "permitted)); using poll until it is", ctx.fdMonitorNote());
    }

    @Test
    void ioUringOpenFailureAtRunTimeFallsBack() {
        IoUringFdMonitorFactory uring = new IoUringFdMonitorFactory();
        assertNull(uring.unavailableReason(), "the probe works on this kernel");
        Faults.failNth("io_uring_setup", 1, Errno.ENOMEM); // the next setup, i.e. this context's ring
        ctx = context(null, new PollFdMonitorFactory(), new EpollFdMonitorFactory(), uring);
        assertEquals("poll", ctx.fdMonitorName());
        assertEquals("io_uring unavailable: io_uring_setup failed: ENOMEM (Cannot allocate memory)", ctx.fdMonitorNote());
        AtomicInteger calls = new AtomicInteger();
        addEventFds(2, calls);
        eventFds.forEach(EventFd::set);
        pollUntil(() -> calls.get() == 2, "handlers on the fallback monitor");
    }

    @Test
    void swapsWhenProvidersComeAndGo() {
        FdMonitorProviders providers = new FdMonitorProviders();
        providers.add(new PollFdMonitorFactory(), 0);
        ctx = Aiolos.newContext(ContextOptions.defaults("providers").withFdMonitors(providers)
                .withFailureHandler((c, source, failure) -> failures.add(source + ": " + failure)));
        AtomicInteger calls = new AtomicInteger();
        addEventFds(4, calls);
        assertEquals("poll", ctx.fdMonitorName());
        IoUringFdMonitorFactory uring = new IoUringFdMonitorFactory();
        providers.add(uring, 0); // a better provider appears
        ctx.poll(false);
        assertEquals("io_uring", ctx.fdMonitorName());
        eventFds.forEach(EventFd::set);
        pollUntil(() -> calls.get() == 4, "handlers after the swap to io_uring");
        providers.remove(uring); // the one in use goes away
        ctx.poll(false);
        assertEquals("poll", ctx.fdMonitorName());
        eventFds.forEach(EventFd::set);
        pollUntil(() -> calls.get() == 8, "handlers after the swap back to poll");
        ctx.useFdMonitor("epoll"); // configured, but no epoll provider here
        ctx.poll(false);
        assertEquals("poll", ctx.fdMonitorName());
        assertTrue(ctx.fdMonitorNote().contains("epoll"), ctx.fdMonitorNote());
    }

    /**
     * A monitor swapped out leaves no poll holding a handler's file: the listening socket
     * watched by the io_uring ring before a swap to poll is closed and its port bound again
     * at once.
     */
    @Test
    void aSwappedOutRingHoldsNoFileOfAHandler() {
        FdMonitorProviders providers = new FdMonitorProviders();
        IoUringFdMonitorFactory uring = new IoUringFdMonitorFactory();
        providers.add(new PollFdMonitorFactory(), 0);
        providers.add(uring, 0);
        ctx = Aiolos.newContext(ContextOptions.defaults("swap-release").withFdMonitors(providers)
                .withFailureHandler((c, source, failure) -> failures.add(source + ": " + failure)));
        int listen = Sockets.listenTcp("127.0.0.1", 0, 8);
        int port = Sockets.localPort(listen);
        ctx.setFdHandler(listen, () -> { }, null);
        ctx.poll(false);
        assertEquals("io_uring", ctx.fdMonitorName());
        providers.remove(uring);
        ctx.poll(false);
        assertEquals("poll", ctx.fdMonitorName());
        ctx.removeFdHandler(listen);
        Fds.close(listen);
        Fds.close(Sockets.listenTcp("127.0.0.1", port, 8)); // EADDRINUSE while the old ring holds it
    }
}
