package org.aiolos.linux;

import org.aiolos.linux.faults.Faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.aiolos.api.FdEvents;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PollSetTest {
    @AfterEach
    void clear() {
        Faults.clear();
    }

    @Test
    void growsByDoublingAndKeepsEntries() throws Exception {
        FdLeaks.check(() -> {
            try (PollSet ps = new PollSet()) {
                assertEquals(8, ps.capacity());
                for (int i = 0; i < 8; i++) {
                    ps.set(i, 100 + i, FdEvents.IN);
                }
                assertEquals(8, ps.capacity());
                ps.set(8, 108, FdEvents.OUT);
                assertEquals(16, ps.capacity());
                ps.set(40, 140, FdEvents.IN);
                assertEquals(64, ps.capacity());
                for (int i = 0; i < 9; i++) {
                    assertEquals(100 + i, ps.fd(i));
                }
                assertEquals(FdEvents.OUT, ps.events(8));
                assertEquals(140, ps.fd(40));
            }
        });
    }

    @Test
    void reportsReadyEntriesAndRevents() throws Exception {
        FdLeaks.check(() -> {
            List<EventFd> ns = new ArrayList<>();
            try (PollSet ps = new PollSet()) {
                for (int i = 0; i < 20; i++) {
                    EventFd n = EventFd.open(false);
                    ns.add(n);
                    ps.set(i, n.fd(), FdEvents.IN);
                }
                ns.get(3).set();
                ns.get(17).set();
                assertEquals(2, ps.ppoll(20, -1), "a ready set returns at once even with an infinite timeout");
                for (int i = 0; i < 20; i++) {
                    assertEquals(i == 3 || i == 17 ? FdEvents.IN : 0, ps.revents(i), "entry " + i);
                }
                ps.clearRevents(20);
                assertEquals(0, ps.revents(3));
            } finally {
                ns.forEach(EventFd::close);
            }
        });
    }

    @Test
    void timeoutHasSubMillisecondPrecision() throws Exception {
        FdLeaks.check(() -> {
            try (EventFd n = EventFd.open(false); PollSet ps = new PollSet()) {
                ps.set(0, n.fd(), FdEvents.IN);
                long t0 = System.nanoTime();
                assertEquals(0, ps.ppoll(1, 1_500_000));
                long dt = System.nanoTime() - t0;
                assertTrue(dt >= 1_500_000, "waited " + dt + " ns");
                assertTrue(dt < 500_000_000, "waited " + dt + " ns");
            }
        });
    }

    @Test
    void wakesFromAnotherThread() throws Exception {
        FdLeaks.check(() -> {
            try (EventFd n = EventFd.open(false); PollSet ps = new PollSet()) {
                ps.set(0, n.fd(), FdEvents.IN);
                Thread t = new Thread(() -> {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    n.set();
                });
                t.start();
                assertEquals(1, ps.ppoll(1, -1));
                t.join();
                assertTrue(n.testAndClear());
            }
        });
    }

    @Test
    void closedFdIsReportedAsNval() throws Exception {
        FdLeaks.check(() -> {
            int[] p = Fds.pipe();
            Fds.close(p[0]);
            Fds.close(p[1]);
            try (PollSet ps = new PollSet()) {
                ps.set(0, p[0], FdEvents.IN);
                assertEquals(1, ps.ppoll(1, 0));
                assertEquals(FdEvents.NVAL, ps.revents(0));
            }
        });
    }

    @Test
    void eintrIsReturnedOtherErrorsThrow() throws Exception {
        try (PollSet ps = new PollSet()) {
            Faults.failNth("ppoll", 1, Errno.EINTR);
            assertEquals(-Errno.EINTR, ps.ppoll(0, 0));
            Faults.failNth("ppoll", 1, Errno.ENOMEM);
            SyscallException e = assertThrows(SyscallException.class, () -> ps.ppoll(0, 0));
            assertEquals("ppoll", e.call());
            assertEquals(Errno.ENOMEM, e.errno());
        }
    }

    @Test
    void badArguments() {
        try (PollSet ps = new PollSet()) {
            assertThrows(IllegalArgumentException.class, () -> ps.set(-1, 0, FdEvents.IN));
            assertThrows(IllegalArgumentException.class, () -> ps.ppoll(9, 0));
            assertThrows(IllegalArgumentException.class, () -> ps.ppoll(-1, 0));
            assertThrows(IllegalArgumentException.class, () -> ps.set(0, 0, 0x10000));
            assertThrows(IndexOutOfBoundsException.class, () -> ps.fd(8));
            ps.close();
            assertThrows(IllegalStateException.class, () -> ps.ppoll(0, 0));
        }
    }
}
