package org.aiolos.linux;

import org.aiolos.linux.faults.Faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.aiolos.api.FdEvents;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class EventFdTest {
    @AfterEach
    void clear() {
        Faults.clear();
    }

    @Test
    void setThenTestAndClear() throws Exception {
        FdLeaks.check(() -> {
            try (EventFd e = EventFd.open(false); PollSet ps = new PollSet()) {
                assertFalse(e.isPipe());
                assertEquals(e.fd(), e.writeFd());
                assertFalse(e.testAndClear());
                ps.set(0, e.fd(), FdEvents.IN);
                assertEquals(0, ps.ppoll(1, 0), "not readable before set");
                e.set();
                e.set();
                assertEquals(1, ps.ppoll(1, 0), "readable after set");
                assertTrue(e.testAndClear());
                assertFalse(e.testAndClear(), "one read empties the eventfd counter");
                assertEquals(0, ps.ppoll(1, 0));
            }
        });
    }

    @Test
    void initiallySet() throws Exception {
        FdLeaks.check(() -> {
            try (EventFd e = EventFd.open(true)) {
                assertTrue(e.testAndClear());
                assertFalse(e.testAndClear());
            }
        });
    }

    @Test
    void pipeFallbackOnEnosys() throws Exception {
        FdLeaks.check(() -> {
            Faults.failNth("eventfd", 1, Errno.ENOSYS);
            try (EventFd e = EventFd.open(true); PollSet ps = new PollSet()) {
                assertTrue(e.isPipe());
                assertNotEquals(e.fd(), e.writeFd());
                assertTrue(e.testAndClear());
                assertFalse(e.testAndClear());
                // Fill the pipe well past one 512-byte drain: set() treats EAGAIN (full) as set.
                for (int i = 0; i < 20_000; i++) {
                    e.set();
                }
                ps.set(0, e.fd(), FdEvents.IN);
                assertEquals(1, ps.ppoll(1, 0));
                assertTrue(e.testAndClear());
                assertEquals(0, ps.ppoll(1, 0), "drained in 512-byte reads until empty");
                assertFalse(e.testAndClear());
            }
        });
    }

    @Test
    void otherEventfdErrorsThrow() {
        Faults.failNth("eventfd", 1, Errno.EMFILE);
        SyscallException ex = assertThrows(SyscallException.class, () -> EventFd.open(false));
        assertEquals("eventfd", ex.call());
        assertEquals(Errno.EMFILE, ex.errno());
    }

    @Test
    void writeErrorOtherThanEagainThrows() throws Exception {
        FdLeaks.check(() -> {
            try (EventFd e = EventFd.open(false)) {
                Faults.failNth("write", 1, Errno.EINTR);
                e.set(); // EINTR is retried
                assertTrue(e.testAndClear());
                Faults.failNth("write", 1, Errno.EAGAIN);
                e.set(); // EAGAIN counts as set
                Faults.failNth("write", 1, Errno.EIO);
                SyscallException ex = assertThrows(SyscallException.class, e::set);
                assertEquals("write", ex.call());
                assertEquals("EIO", ex.errnoName());
            }
        });
    }

    @Test
    void closeIsIdempotentAndDisables() throws Exception {
        FdLeaks.check(() -> {
            EventFd e = EventFd.open(true);
            int fd = e.fd();
            e.close();
            e.close();
            assertFalse(Fds.isOpen(fd));
            assertEquals(-1, e.fd());
            e.set(); // no-op after close
            assertFalse(e.testAndClear());
        });
    }

    @Test
    void concurrentSetAndClose() throws Exception {
        FdLeaks.check(() -> {
            for (int round = 0; round < 20; round++) {
                EventFd e = EventFd.open(false);
                int fd = e.fd();
                CountDownLatch go = new CountDownLatch(1);
                AtomicReference<Throwable> failure = new AtomicReference<>();
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    Thread th = new Thread(() -> {
                        try {
                            go.await();
                            for (int i = 0; i < 2000; i++) {
                                e.set();
                            }
                        } catch (Throwable x) {
                            failure.compareAndSet(null, x);
                        }
                    });
                    threads.add(th);
                    th.start();
                }
                Thread closer = new Thread(() -> {
                    try {
                        go.await();
                        Thread.sleep(0, 50_000);
                        e.close();
                    } catch (Throwable x) {
                        failure.compareAndSet(null, x);
                    }
                });
                closer.start();
                go.countDown();
                for (Thread th : threads) {
                    th.join();
                }
                closer.join();
                e.close();
                assertEquals(null, failure.get());
                assertFalse(Fds.isOpen(fd), "closed by the last user");
            }
        });
    }

    @Test
    void saturatedCounterCountsAsSet() throws Exception {
        FdLeaks.check(() -> {
            try (EventFd e = EventFd.open(false); java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
                // The eventfd counter tops out at 0xfffffffffffffffe: one more write would block (EAGAIN).
                java.lang.foreign.MemorySegment max = a.allocate(8, 8);
                max.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 0xffff_ffff_ffff_fffeL);
                assertEquals(8, Fds.write(e.writeFd(), max, 8));
                e.set(); // EAGAIN inside: treated as success, no exception
                assertTrue(e.testAndClear());
                assertFalse(e.testAndClear());
            }
        });
    }

    @Test
    void errnoIsCapturedPerThread() throws Exception {
        // One thread always gets EBADF, the other always EAGAIN; neither may see the other's errno.
        int[] p = Fds.pipe();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread a = new Thread(() -> {
            try (java.lang.foreign.Arena ar = java.lang.foreign.Arena.ofConfined()) {
                java.lang.foreign.MemorySegment b = ar.allocate(8);
                for (int i = 0; i < 20_000; i++) {
                    if (Fds.read(p[0], b, 8) != -Errno.EAGAIN) {
                        throw new AssertionError("expected EAGAIN");
                    }
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        });
        Thread b = Thread.ofVirtual().unstarted(() -> {
            for (int i = 0; i < 20_000; i++) {
                try {
                    Fds.close(-1); // never a valid descriptor: EBADF without risking a reused number
                    failure.compareAndSet(null, new AssertionError("close of a closed fd succeeded"));
                    return;
                } catch (SyscallException e) {
                    if (e.errno() != Errno.EBADF) {
                        failure.compareAndSet(null, e);
                        return;
                    }
                }
            }
        });
        a.start();
        b.start();
        a.join();
        b.join();
        Fds.close(p[0]);
        Fds.close(p[1]);
        assertEquals(null, failure.get());
    }
}
