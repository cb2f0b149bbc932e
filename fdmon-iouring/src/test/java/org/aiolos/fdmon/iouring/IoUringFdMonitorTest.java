package org.aiolos.fdmon.iouring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.aiolos.api.FdEvents;
import org.aiolos.api.fdmon.FdMonitorUnavailableException;
import org.aiolos.testkit.FakeHost;
import org.aiolos.linux.Errno;
import org.aiolos.linux.EventFd;
import org.aiolos.linux.faults.Faults;
import org.aiolos.linux.Fds;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The io_uring monitor's ring protocol, driven directly with a stand-in host. */
class IoUringFdMonitorTest {
    private final FakeHost host = new FakeHost();
    private final List<EventFd> efds = new ArrayList<>();
    private IoUringFdMonitor mon;
    private int fdsBefore;

    @BeforeEach
    void open() {
        fdsBefore = Fds.openFdCount();
        mon = (IoUringFdMonitor) new IoUringFdMonitorFactory().open(host);
    }

    @AfterEach
    void close() {
        Faults.clear();
        mon.close();
        mon.close(); // idempotent
        efds.forEach(EventFd::close);
        assertEquals(fdsBefore, Fds.openFdCount(), "ring fd and eventfds released");
    }

    private EventFd efd() {
        EventFd e = EventFd.open(false);
        efds.add(e);
        return e;
    }

    @Test
    void updatesAreQueuedUntilTheHomeThreadWaits() {
        EventFd e = efd();
        FakeHost.Watch w = host.watch(e.fd(), -1);
        assertFalse(mon.needWait(), "nothing queued yet");
        mon.update(null, w);
        assertTrue(mon.needWait(), "a queued change forces a wait (QEMU need_wait)");
        assertEquals(0, mon.trackedRegistrations(), "the ring is untouched until wait");
        assertEquals(0, mon.wait(host, 0));
        assertEquals(1, mon.trackedRegistrations());
        assertFalse(mon.needWait(), "submitted; nothing ready");
        e.set();
        assertEquals(1, mon.wait(host, 1_000_000_000L), "the POLL_ADD completed");
        assertEquals(List.of(w), host.reported);
        assertTrue((host.revents.get(0) & FdEvents.IN) != 0);
    }

    @Test
    void reArmedAfterEveryCompletionWhileReady() {
        EventFd e = efd();
        FakeHost.Watch w = host.watch(e.fd(), -1);
        mon.update(null, w);
        e.set();
        for (int i = 0; i < 5; i++) {
            host.clearReported();
            // first wait submits the re-arm; it completes at once since the fd stays ready
            int n = mon.wait(host, 100_000_000L);
            assertEquals(1, n, "reported again in round " + i + " (level-triggered)");
        }
        e.testAndClear();
        host.clearReported();
        mon.wait(host, 0); // submits the re-arm; the fd is no longer ready
        assertEquals(0, mon.wait(host, 2_000_000L), "quiet once drained");
    }

    @Test
    void retiredRegistrationForgottenAfterItsLastCompletion() {
        EventFd e = efd();
        FakeHost.Watch w = host.watch(e.fd(), 0);
        mon.update(null, w);
        mon.wait(host, 0);
        assertEquals(1, mon.trackedRegistrations());
        // replace: same slot, next generation, as the context does
        FakeHost.Watch w2 = host.watch(e.fd(), 0);
        mon.update(w, w2);
        host.retire(w);
        assertEquals(0, mon.wait(host, 0), "POLL_REMOVE and the new POLL_ADD submitted");
        // the cancelled POLL_ADD completes with -ECANCELED: the old record goes then
        for (int i = 0; i < 100 && mon.trackedRegistrations() > 1; i++) {
            mon.wait(host, 1_000_000L);
        }
        assertEquals(1, mon.trackedRegistrations(), "only the live registration remains");
        e.set();
        host.clearReported();
        assertEquals(1, mon.wait(host, 1_000_000_000L));
        assertEquals(List.of(w2), host.reported, "the event goes to the new generation only");
    }

    @Test
    void removedBeforeTheHomeThreadSawItNeverReachesTheKernel() {
        EventFd e = efd();
        FakeHost.Watch w = host.watch(e.fd(), -1);
        mon.update(null, w);
        mon.update(w, null);
        host.retire(w);
        e.set();
        assertEquals(0, mon.wait(host, 1_000_000L));
        assertEquals(0, mon.trackedRegistrations());
        assertTrue(host.reported.isEmpty());
    }

    @Test
    void moreFdsThanTheRingSubmitsWhenFullAndFlushesOverflow() {
        int n = 1024; // 8x the SQ, 4x the CQ: SQ-full submits, CQ overflow
        Set<FakeHost.Watch> all = new HashSet<>();
        for (int i = 0; i < n; i++) {
            EventFd e = efd();
            FakeHost.Watch w = host.watch(e.fd(), -1);
            all.add(w);
            mon.update(null, w);
        }
        mon.wait(host, 0);
        assertEquals(n, mon.trackedRegistrations());
        assertTrue(mon.forcedSubmits() >= n / IoUringFdMonitor.ENTRIES - 1, "SQ-full submits: " + mon.forcedSubmits());
        efds.forEach(EventFd::set);
        Set<FakeHost.Watch> seen = new HashSet<>();
        for (int round = 0; round < 50 && seen.size() < n; round++) {
            mon.wait(host, 10_000_000L);
            seen.addAll(host.reported);
            host.clearReported();
        }
        assertEquals(all, seen, "every ready fd reported, none lost to the CQ overflow");
        assertTrue(mon.overflowFlushes() > 0, "the CQ did overflow and was flushed");
    }

    @Test
    void interruptedEnterIsRetried() {
        EventFd e = efd();
        FakeHost.Watch w = host.watch(e.fd(), -1);
        mon.update(null, w);
        mon.wait(host, 0);
        e.set();
        Faults.failNth("io_uring_enter", 1, Errno.EINTR); // as a signal would
        assertEquals(1, mon.wait(host, 1_000_000_000L), "EINTR went round, the completion still arrived");
    }

    @Test
    void timeoutHasNanosecondResolution() {
        EventFd e = efd();
        mon.update(null, host.watch(e.fd(), -1));
        mon.wait(host, 0);
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 20; i++) {
            long t0 = System.nanoTime();
            assertEquals(0, mon.wait(host, 150_000L));
            long ns = System.nanoTime() - t0;
            assertTrue(ns >= 150_000L, "never early: " + ns);
            best = Math.min(best, ns);
        }
        assertTrue(best < 900_000L, "a TIMEOUT SQE, not millisecond rounding: best " + best + " ns");
    }

    @Test
    void closedFdReportedAsInvalid() {
        int[] p = Fds.pipe();
        FakeHost.Watch w = host.watch(p[0], -1);
        Fds.close(p[0]);
        mon.update(null, w); // armed after the close: the kernel refuses the poll (EBADF)
        mon.wait(host, 0);
        mon.wait(host, 10_000_000L);
        Fds.close(p[1]);
        assertEquals(List.of(w), host.reported);
        assertEquals(List.of(FdEvents.NVAL), host.revents);
    }

    @Test
    void setupFailureIsReportedWithTheErrno() {
        Faults.failNth("io_uring_setup", 1, Errno.ENOSYS);
        FdMonitorUnavailableException e = assertThrows(FdMonitorUnavailableException.class,
                () -> new IoUringFdMonitorFactory().open(host));
        assertEquals("io_uring_setup failed: ENOSYS (Function not implemented)", e.getMessage());
        assertNull(new IoUringFdMonitorFactory().unavailableReason(), "the probe works once the fault is gone");
    }
}
