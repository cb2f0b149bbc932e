package org.aiolos.fdmon.epoll;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.aiolos.testkit.FakeHost;
import org.aiolos.linux.Errno;
import org.aiolos.linux.EventFd;
import org.aiolos.linux.faults.Faults;
import org.aiolos.linux.Fds;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The epoll monitor's ctl mapping, failure rule and wait, driven with a stand-in host. */
class EpollFdMonitorTest {
    private final FakeHost host = new FakeHost();
    private final List<EventFd> efds = new ArrayList<>();
    private EpollFdMonitor mon;
    private int fdsBefore;

    @TempDir
    Path tmp;

    @BeforeEach
    void open() {
        fdsBefore = Fds.openFdCount();
        mon = (EpollFdMonitor) new EpollFdMonitorFactory().open(host);
    }

    @AfterEach
    void close() {
        Faults.clear();
        mon.close();
        mon.close();
        efds.forEach(EventFd::close);
        assertEquals(fdsBefore, Fds.openFdCount(), "epoll fd released");
    }

    private EventFd efd() {
        EventFd e = EventFd.open(false);
        efds.add(e);
        return e;
    }

    @Test
    void addReplaceDeleteMirrorTheHandlers() {
        EventFd e = efd();
        FakeHost.Watch w1 = host.watch(e.fd(), 0);
        mon.update(null, w1); // ADD
        e.set();
        assertEquals(1, mon.wait(host, 0));
        assertEquals(List.of(w1), host.reported);
        FakeHost.Watch w2 = host.watch(e.fd(), 0);
        mon.update(w1, w2); // MOD, new user data
        host.retire(w1);
        host.clearReported();
        assertEquals(1, mon.wait(host, 0));
        assertEquals(List.of(w2), host.reported, "events carry the new registration");
        mon.update(w2, null); // DEL
        host.retire(w2);
        host.clearReported();
        assertEquals(0, mon.wait(host, 0));
        assertNull(mon.failure());
    }

    @Test
    void staleRegistrationEventsAreDropped() {
        EventFd e = efd();
        FakeHost.Watch w = host.watch(e.fd(), 0);
        mon.update(null, w);
        e.set();
        host.retire(w); // the context already forgot it; the kernel has not been told yet
        assertEquals(0, mon.wait(host, 0));
        assertTrue(host.reported.isEmpty());
    }

    @Test
    void regularFileFailsTheMonitor() throws Exception {
        Path f = Files.writeString(tmp.resolve("f"), "x");
        int fd = org.aiolos.linux.Files.open(f.toString(), org.aiolos.linux.Files.O_RDONLY, 0);
        try {
            mon.update(null, host.watch(fd, -1));
            String why = mon.failure();
            assertTrue(why != null && why.contains("EPERM") && why.contains("ADD"), String.valueOf(why));
        } finally {
            Fds.close(fd);
        }
    }

    @Test
    void anyOtherCtlFailureFailsTheMonitor() {
        EventFd e = efd();
        Faults.failNth("epoll_ctl", 1, Errno.ENOMEM);
        mon.update(null, host.watch(e.fd(), -1));
        assertTrue(mon.failure().contains("ENOMEM"), mon.failure());
    }

    @Test
    void removingAClosedFdIsNotAFailure() {
        int[] p = Fds.pipe();
        FakeHost.Watch w = host.watch(p[0], -1);
        mon.update(null, w);
        Fds.close(p[0]); // the kernel drops the entry
        mon.update(w, null); // DEL -> EBADF, treated as done
        Fds.close(p[1]);
        assertNull(mon.failure());
    }

    @Test
    void replacingAClosedAndReusedFdAddsIt() {
        int[] p = Fds.pipe();
        int fd = p[0];
        FakeHost.Watch w = host.watch(fd, 0);
        mon.update(null, w);
        Fds.close(p[0]);
        int[] q = Fds.pipe();
        try {
            assertEquals(fd, q[0], "number reused");
            FakeHost.Watch w2 = host.watch(fd, 0);
            mon.update(w, w2); // MOD -> ENOENT -> ADD
            host.retire(w);
            assertNull(mon.failure());
            assertEquals(1, Fds.write(q[1], java.lang.foreign.Arena.ofAuto().allocate(1), 1));
            assertEquals(1, mon.wait(host, 0));
            assertEquals(List.of(w2), host.reported);
        } finally {
            Fds.close(p[1]);
            Fds.close(q[0]);
            Fds.close(q[1]);
        }
    }

    @Test
    void atMost128EventsPerWait() {
        Set<FakeHost.Watch> all = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            EventFd e = efd();
            FakeHost.Watch w = host.watch(e.fd(), -1);
            all.add(w);
            mon.update(null, w);
            e.set();
        }
        assertEquals(EpollFdMonitor.MAX_EVENTS, mon.wait(host, 0));
        Set<FakeHost.Watch> seen = new HashSet<>(host.reported);
        for (int i = 0; i < 10 && seen.size() < all.size(); i++) {
            host.clearReported();
            mon.wait(host, 0);
            seen.addAll(host.reported);
        }
        assertEquals(all, seen, "level-triggered: the rest come in later waits");
    }

    @Test
    void timeoutHasNanosecondResolution() {
        mon.update(null, host.watch(efd().fd(), -1));
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 20; i++) {
            long t0 = System.nanoTime();
            assertEquals(0, mon.wait(host, 150_000L));
            long ns = System.nanoTime() - t0;
            assertTrue(ns >= 150_000L, "never early: " + ns);
            best = Math.min(best, ns);
        }
        assertTrue(best < 900_000L, "ppoll on the epoll fd, not epoll_wait's milliseconds: best " + best + " ns");
    }
}
