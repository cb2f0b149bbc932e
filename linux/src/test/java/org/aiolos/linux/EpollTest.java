package org.aiolos.linux;

import org.aiolos.linux.faults.Faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.aiolos.api.FdEvents;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class EpollTest {
    @AfterEach
    void clear() {
        Faults.clear();
    }

    @Test
    void bitsEqualPollBits() {
        assertEquals(FdEvents.IN, Epoll.EPOLLIN);
        assertEquals(FdEvents.PRI, Epoll.EPOLLPRI);
        assertEquals(FdEvents.OUT, Epoll.EPOLLOUT);
        assertEquals(FdEvents.ERR, Epoll.EPOLLERR);
        assertEquals(FdEvents.HUP, Epoll.EPOLLHUP);
        assertEquals(FdEvents.IN | FdEvents.HUP, Epoll.toPollBits(Epoll.EPOLLIN | Epoll.EPOLLHUP | Epoll.EPOLLET));
        assertEquals(Epoll.EPOLLOUT, Epoll.fromPollBits(FdEvents.OUT | FdEvents.NVAL));
    }

    @Test
    void addModDelAndWait() throws Exception {
        FdLeaks.check(() -> {
            int ep = Epoll.create();
            List<EventFd> ns = new ArrayList<>();
            try (EpollEventArray evs = new EpollEventArray(4)) {
                for (int i = 0; i < 10; i++) {
                    EventFd n = EventFd.open(false);
                    ns.add(n);
                    Epoll.ctl(ep, Epoll.EPOLL_CTL_ADD, n.fd(), Epoll.EPOLLIN, 0x1_0000_0000L + i);
                }
                assertEquals(0, evs.wait(ep, 0));
                ns.get(2).set();
                ns.get(7).set();
                assertEquals(2, evs.wait(ep, -1));
                Set<Long> seen = new HashSet<>();
                for (int i = 0; i < 2; i++) {
                    assertEquals(Epoll.EPOLLIN, evs.events(i));
                    seen.add(evs.data(i));
                }
                assertEquals(Set.of(0x1_0000_0002L, 0x1_0000_0007L), seen, "64-bit data read back from the packed struct");
                // Level-triggered: still ready until drained.
                assertEquals(2, evs.wait(ep, 0));
                // MOD replaces data; DEL stops reporting.
                Epoll.ctl(ep, Epoll.EPOLL_CTL_MOD, ns.get(2).fd(), Epoll.EPOLLIN, -5L);
                Epoll.ctl(ep, Epoll.EPOLL_CTL_DEL, ns.get(7).fd(), 0, 0);
                assertEquals(1, evs.wait(ep, 0));
                assertEquals(-5L, evs.data(0));
                // More ready than capacity: capped at capacity.
                ns.forEach(EventFd::set);
                assertEquals(4, evs.wait(ep, 0));
            } finally {
                ns.forEach(EventFd::close);
                Fds.close(ep);
            }
        });
    }

    @Test
    void waitBlocksUntilSetFromAnotherThread() throws Exception {
        FdLeaks.check(() -> {
            int ep = Epoll.create();
            try (EventFd n = EventFd.open(false); EpollEventArray evs = new EpollEventArray(8)) {
                Epoll.ctl(ep, Epoll.EPOLL_CTL_ADD, n.fd(), Epoll.EPOLLIN, 99);
                long t0 = System.nanoTime();
                assertEquals(0, evs.wait(ep, 5));
                assertTrue(System.nanoTime() - t0 >= 4_000_000, "timed out after ~5 ms");
                Thread t = new Thread(() -> {
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    n.set();
                });
                t.start();
                assertEquals(1, evs.wait(ep, 10_000));
                assertEquals(99, evs.data(0));
                t.join();
            } finally {
                Fds.close(ep);
            }
        });
    }

    @Test
    void ctlErrorsNameOpAndFd() throws Exception {
        FdLeaks.check(() -> {
            int ep = Epoll.create();
            try (EventFd n = EventFd.open(false)) {
                Epoll.ctl(ep, Epoll.EPOLL_CTL_ADD, n.fd(), Epoll.EPOLLIN, 1);
                SyscallException dup = assertThrows(SyscallException.class,
                        () -> Epoll.ctl(ep, Epoll.EPOLL_CTL_ADD, n.fd(), Epoll.EPOLLIN, 1));
                assertEquals(Errno.EEXIST, dup.errno());
                int[] p = Fds.pipe();
                Fds.close(p[0]);
                Fds.close(p[1]);
                SyscallException bad = assertThrows(SyscallException.class,
                        () -> Epoll.ctl(ep, Epoll.EPOLL_CTL_ADD, p[0], Epoll.EPOLLIN, 1));
                assertEquals("epoll_ctl", bad.call());
                assertEquals(Errno.EBADF, bad.errno());
                assertTrue(bad.getMessage().startsWith("epoll_ctl(ADD, fd " + p[0]), bad.getMessage());
                SyscallException missing = assertThrows(SyscallException.class,
                        () -> Epoll.ctl(ep, Epoll.EPOLL_CTL_MOD, 0, Epoll.EPOLLIN, 1));
                assertTrue(missing.getMessage().startsWith("epoll_ctl(MOD, fd 0"), missing.getMessage());
                assertThrows(IllegalArgumentException.class, () -> Epoll.ctl(ep, 7, n.fd(), 0, 0));
            } finally {
                Fds.close(ep);
            }
        });
    }

    @Test
    void errorsAndFaults() throws Exception {
        FdLeaks.check(() -> {
            Faults.failNth("epoll_create1", 1, Errno.EMFILE);
            assertEquals("epoll_create1", assertThrows(SyscallException.class, Epoll::create).call());
            int ep = Epoll.create();
            try (EpollEventArray evs = new EpollEventArray(2)) {
                Faults.failNth("epoll_wait", 1, Errno.EINTR);
                assertEquals(-Errno.EINTR, evs.wait(ep, -1));
                Faults.failNth("epoll_ctl", 1, Errno.ENOSPC);
                assertEquals(Errno.ENOSPC, assertThrows(SyscallException.class,
                        () -> Epoll.ctl(ep, Epoll.EPOLL_CTL_ADD, 0, Epoll.EPOLLIN, 0)).errno());
                Fds.close(ep);
                SyscallException e = assertThrows(SyscallException.class, () -> evs.wait(ep, 0));
                assertEquals("epoll_wait", e.call());
                assertEquals(Errno.EBADF, e.errno());
            }
            assertThrows(IllegalArgumentException.class, () -> new EpollEventArray(0));
        });
    }

    @Test
    void epollFdCanBePpolledForNanosecondTimeouts() throws Exception {
        // fdmon-epoll waits with ppoll on the epoll fd first, for ns precision (fdmon_epoll_wait
        // in util/fdmon-epoll.c).
        FdLeaks.check(() -> {
            int ep = Epoll.create();
            try (EventFd n = EventFd.open(false); PollSet ps = new PollSet(); EpollEventArray evs = new EpollEventArray(4)) {
                Epoll.ctl(ep, Epoll.EPOLL_CTL_ADD, n.fd(), Epoll.EPOLLIN, 1);
                ps.set(0, ep, FdEvents.IN);
                long t0 = System.nanoTime();
                assertEquals(0, ps.ppoll(1, 700_000));
                assertTrue(System.nanoTime() - t0 >= 700_000);
                n.set();
                assertEquals(1, ps.ppoll(1, 1_000_000_000L));
                assertEquals(1, evs.wait(ep, 0));
                assertEquals(1, evs.data(0));
            } finally {
                Fds.close(ep);
            }
        });
    }
}
