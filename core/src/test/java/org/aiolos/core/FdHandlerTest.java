package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.aiolos.linux.EventFd;
import org.aiolos.linux.Fds;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * fd handlers: registration, dispatch, replacement and deletion ({@code aio_set_fd_handler}
 * and {@code aio_dispatch_handler} in QEMU's {@code util/aio-posix.c}).
 */
class FdHandlerTest {
    private final TestContexts contexts = new TestContexts();
    private final List<Integer> fds = new ArrayList<>();
    private final Arena arena = Arena.ofConfined();
    private AiolosContext ctx;

    @BeforeEach
    void setUp() {
        ctx = contexts.open("fd");
        ctx.poll(false);
    }

    @AfterEach
    void tearDown() {
        for (int fd : fds) {
            ctx.removeFdHandler(fd);
        }
        contexts.closeAll();
        for (int fd : fds) {
            if (Fds.isOpen(fd)) {
                Fds.close(fd);
            }
        }
        arena.close();
    }

    private int[] pipe() {
        int[] p = Fds.pipe();
        fds.add(p[0]);
        fds.add(p[1]);
        return p;
    }

    private void writeByte(int fd) {
        MemorySegment b = arena.allocate(1);
        assertEquals(1, Fds.write(fd, b, 1));
    }

    private int readAll(int fd) {
        MemorySegment b = arena.allocate(64);
        int total = 0;
        int n;
        while ((n = Fds.read(fd, b, 64)) > 0) {
            total += n;
        }
        return total;
    }

    @Test
    void readHandlerRunsWhenDataArrivesAndIsLevelTriggered() {
        int[] p = pipe();
        AtomicInteger reads = new AtomicInteger();
        ctx.setFdHandler(p[0], reads::incrementAndGet, null);
        assertFalse(ctx.poll(false), "nothing to read yet");
        writeByte(p[1]);
        assertTrue(ctx.poll(false));
        assertEquals(1, reads.get());
        assertTrue(ctx.poll(false), "still readable: reported again");
        assertEquals(2, reads.get());
        readAll(p[0]);
        assertFalse(ctx.poll(false));
        contexts.assertNoFailures();
    }

    @Test
    void blockingPollWaitsForTheFd() throws Exception {
        int[] p = pipe();
        AtomicInteger reads = new AtomicInteger();
        ctx.setFdHandler(p[0], () -> {
            reads.incrementAndGet();
            readAll(p[0]);
        }, null);
        ctx.poll(false);
        Thread writer = Thread.ofPlatform().start(() -> {
            NotifyTest.sleepMillis(10);
            try (Arena a = Arena.ofConfined()) {
                Fds.write(p[1], a.allocate(1), 1);
            }
        });
        assertTrue(ctx.poll(true));
        writer.join();
        assertEquals(1, reads.get());
    }

    @Test
    void writeHandlerAndHangUp() {
        int[] p = pipe();
        AtomicInteger writes = new AtomicInteger();
        ctx.setFdHandler(p[1], null, writes::incrementAndGet);
        assertTrue(ctx.poll(false), "an empty pipe is writable");
        assertEquals(1, writes.get());
        ctx.removeFdHandler(p[1]);
        AtomicInteger reads = new AtomicInteger();
        ctx.setFdHandler(p[0], reads::incrementAndGet, null);
        Fds.close(p[1]);
        fds.remove(Integer.valueOf(p[1]));
        assertTrue(ctx.poll(false), "a hang-up wakes the read handler");
        assertEquals(1, reads.get());
    }

    @Test
    void handlerDeletingItselfAndAnotherDuringDispatch() {
        int[] a = pipe();
        int[] b = pipe();
        AtomicInteger aRuns = new AtomicInteger();
        AtomicInteger bRuns = new AtomicInteger();
        // Registered first: dispatched first (poll discovers newest first, ready list is LIFO).
        ctx.setFdHandler(a[0], () -> {
            aRuns.incrementAndGet();
            ctx.removeFdHandler(a[0]);
            ctx.removeFdHandler(b[0]);
        }, null);
        ctx.setFdHandler(b[0], bRuns::incrementAndGet, null);
        writeByte(a[1]);
        writeByte(b[1]);
        assertTrue(ctx.poll(false));
        assertEquals(1, aRuns.get());
        assertEquals(0, bRuns.get(), "b was removed before its turn: its pending event is dropped");
        for (int i = 0; i < 3; i++) {
            ctx.poll(false);
        }
        assertEquals(1, aRuns.get(), "never called after removal");
        assertEquals(0, bRuns.get());
        contexts.assertNoFailures();
    }

    @Test
    void replacedHandlerIsNeverCalledAgain() {
        int[] p = pipe();
        AtomicInteger old = new AtomicInteger();
        AtomicInteger replacement = new AtomicInteger();
        ctx.setFdHandler(p[0], () -> {
            old.incrementAndGet();
            ctx.setFdHandler(p[0], replacement::incrementAndGet, null);
        }, null);
        writeByte(p[1]);
        assertTrue(ctx.poll(false));
        assertEquals(1, old.get());
        assertEquals(0, replacement.get(), "the new node is not on this poll's ready list");
        assertTrue(ctx.poll(false));
        assertEquals(1, old.get());
        assertEquals(1, replacement.get());
    }

    @Test
    void removedHandlerOfAnFdWhoseNumberIsReusedDoesNotSeeTheNewFd() {
        int[] p = pipe();
        AtomicInteger first = new AtomicInteger();
        ctx.setFdHandler(p[0], first::incrementAndGet, null);
        ctx.removeFdHandler(p[0]);
        Fds.close(p[0]);
        Fds.close(p[1]);
        fds.clear();
        int[] q = pipe(); // the kernel hands out the lowest free numbers: likely the same
        AtomicInteger second = new AtomicInteger();
        ctx.setFdHandler(q[0], second::incrementAndGet, null);
        writeByte(q[1]);
        assertTrue(ctx.poll(false));
        assertEquals(0, first.get());
        assertEquals(1, second.get());
    }

    @Test
    void fdClosedWhileRegisteredIsDroppedAndReported() {
        int[] p = pipe();
        AtomicInteger reads = new AtomicInteger();
        ctx.setFdHandler(p[0], reads::incrementAndGet, null);
        Fds.close(p[0]);
        fds.remove(Integer.valueOf(p[0]));
        ctx.poll(false);
        assertEquals(0, reads.get());
        assertEquals(1, contexts.failures().size());
        assertTrue(contexts.failures().get(0).getMessage().contains("was closed while its handler was registered"));
        contexts.failures().clear();
        assertFalse(ctx.poll(false), "the loop does not spin on the dead fd");
        assertEquals(1, ctx.stats().handlers(), "only the context's notifier is left");
    }

    @Test
    void badFdsAreRejectedAndTheContextKeepsWorking() {
        IllegalArgumentException neg = assertThrows(IllegalArgumentException.class,
                () -> ctx.setFdHandler(-1, () -> { }, null));
        assertTrue(neg.getMessage().contains("-1"), neg.getMessage());
        int[] p = pipe();
        Fds.close(p[0]);
        fds.remove(Integer.valueOf(p[0]));
        IllegalArgumentException closed = assertThrows(IllegalArgumentException.class,
                () -> ctx.setFdHandler(p[0], () -> { }, null));
        assertTrue(closed.getMessage().contains("not open"), closed.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ctx.removeFdHandler(-5));
        ctx.removeFdHandler(p[0]); // removing what is not there: nothing happens
        AtomicInteger ran = new AtomicInteger();
        ctx.scheduleOneshot("still-alive", ran::incrementAndGet);
        assertTrue(ctx.poll(false));
        assertEquals(1, ran.get());
    }

    @Test
    void pollFromAnotherThreadIsRejected() throws Exception {
        AtomicReference<Throwable> seen = new AtomicReference<>();
        Thread other = Thread.ofPlatform().start(() -> {
            try {
                ctx.poll(false);
            } catch (Throwable t) {
                seen.set(t);
            }
        });
        other.join();
        assertTrue(seen.get() instanceof IllegalStateException, String.valueOf(seen.get()));
        assertTrue(seen.get().getMessage().contains("home thread"), seen.get().getMessage());
        ctx.scheduleOneshot("fine", () -> { });
        assertTrue(ctx.poll(false), "the home thread is unaffected");
    }

    @Test
    void eventNotifierHandler() {
        try (EventFd notifier = EventFd.open(false)) {
            AtomicInteger reads = new AtomicInteger();
            ctx.setEventNotifier(notifier, () -> {
                notifier.testAndClear();
                reads.incrementAndGet();
            }, null, null);
            assertFalse(ctx.poll(false));
            notifier.set();
            assertTrue(ctx.poll(false));
            assertEquals(1, reads.get());
            assertFalse(ctx.poll(false));
            ctx.setEventNotifier(notifier, null, null, null);
        }
    }
}
