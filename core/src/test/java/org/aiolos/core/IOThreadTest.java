package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.IOThread;
import org.aiolos.api.PollParams;
import org.aiolos.api.TimeScale;
import org.aiolos.core.loop.ContextImpl;
import org.aiolos.linux.Fds;
import org.junit.jupiter.api.Test;

/**
 * IOThreads ({@code iothread_run} in QEMU's {@code iothread.c}) and the current context
 * ({@code qemu_get_current_aio_context} in {@code util/async.c}).
 */
class IOThreadTest {
    private final TestContexts contexts = new TestContexts();

    @Test
    void workScheduledFromOutsideRunsInTheIOThreadWithItsContextCurrent() throws Exception {
        IOThread io = Aiolos.newIOThread(contexts.options("io-1").withPollParams(PollParams.IOTHREAD_DEFAULT));
        assertNull(io.thread());
        io.start();
        io.start(); // idempotent
        assertTrue(io.isRunning());
        CompletableFuture<Object[]> seen = new CompletableFuture<>();
        io.context().scheduleOneshot("probe", () -> seen.complete(new Object[] {
            Thread.currentThread(), AioContext.current(), io.context().inHomeThread()}));
        Object[] r = seen.get(10, TimeUnit.SECONDS);
        assertSame(io.thread(), r[0]);
        assertSame(io.context(), r[1]);
        assertEquals(Boolean.TRUE, r[2]);
        assertFalse(io.context().inHomeThread());
        assertEquals(PollParams.IOTHREAD_DEFAULT, io.context().pollParams());
        assertThrows(IllegalStateException.class, () -> io.context().poll(false),
                "only the IOThread polls its context");
        io.close();
        assertFalse(io.isRunning());
        assertFalse(io.thread().isAlive());
        contexts.assertNoFailures();
    }

    @Test
    void stopFinishesTheIterationAndIsIdempotent() throws Exception {
        IOThread io = Aiolos.newIOThread(contexts.options("io-2"));
        io.start();
        int[] ran = new int[1];
        for (int i = 0; i < 1000; i++) {
            io.context().scheduleOneshot("work", () -> ran[0]++);
        }
        io.stop();
        io.stop();
        assertFalse(io.isRunning());
        // The thread has ended, so its plain writes are visible (join is happens-before).
        assertTrue(ran[0] > 0);
        io.close();
    }

    @Test
    void closingAnIOThreadReleasesItsContextEvenWithATimerLeftArmed() throws Exception {
        int fds = Fds.openFdCount();
        IOThread io = Aiolos.newIOThread(contexts.options("io-left"));
        io.start();
        AioTimer left = io.context().newTimer(ClockType.REALTIME, TimeScale.MS, () -> { });
        left.mod(io.context().clocks().now(ClockType.REALTIME, TimeScale.MS) + 3_600_000);
        IllegalStateException e = assertThrows(IllegalStateException.class, io::close);
        assertTrue(e.getMessage().contains("left in its context"), e.getMessage());
        assertTrue(((ContextImpl) io.context()).isClosed(), "the context is closed all the same");
        assertEquals(fds, Fds.openFdCount(), "its monitor and notifier descriptors are closed");
        assertThrows(IllegalStateException.class, () -> left.mod(0), "the abandoned timer cannot be armed again");
    }

    /** An IOThread runs once (QEMU's cannot be restarted either): a start after stop or close says so. */
    @Test
    void aStoppedOrClosedIOThreadRefusesToStartAgainSayingWhy() {
        IOThread stopped = Aiolos.newIOThread(contexts.options("io-once"));
        stopped.start();
        stopped.stop();
        IllegalStateException e = assertThrows(IllegalStateException.class, stopped::start);
        assertEquals("IOThread 'io-once' has stopped; an IOThread runs once: create another one for its work",
                e.getMessage());
        assertFalse(stopped.isRunning());
        stopped.close();

        IOThread closed = Aiolos.newIOThread(contexts.options("io-closed"));
        closed.close();
        e = assertThrows(IllegalStateException.class, closed::start);
        assertEquals("IOThread 'io-closed' is closed; it cannot start again", e.getMessage());
        assertFalse(closed.isRunning());
        assertNull(closed.thread(), "no thread was started for it");
    }

    /**
     * A close of an IOThread's context from outside found its loop between two iterations
     * (nothing guards that instant) and either killed the IOThread ("poll: ... is closed")
     * or left it blocked for good on the closed context's descriptors, so that
     * {@code IOThread.close()} never returned. The context belongs to the IOThread.
     */
    @Test
    void anIOThreadsContextIsClosedOnlyByTheIOThread() throws Exception {
        IOThread idle = Aiolos.newIOThread(contexts.options("io-owned-idle"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> idle.context().close());
        assertEquals("AioContext 'io-owned-idle' belongs to IOThread 'io-owned-idle', which closes it: call its"
                + " close() (the context stays open)", e.getMessage());
        idle.close();
        assertTrue(((ContextImpl) idle.context()).isClosed());

        IOThread io = Aiolos.newIOThread(contexts.options("io-owned"));
        io.start();
        for (int i = 0; i < 2000; i++) {
            assertThrows(IllegalStateException.class, () -> io.context().close());
        }
        CompletableFuture<Thread> ran = new CompletableFuture<>();
        io.context().scheduleOneshot("still-running", () -> ran.complete(Thread.currentThread()));
        assertSame(io.thread(), ran.get(10, TimeUnit.SECONDS), "the IOThread kept running its loop");
        assertTrue(io.isRunning());
        io.close();
        assertTrue(((ContextImpl) io.context()).isClosed());
        assertFalse(io.thread().isAlive());
        contexts.assertNoFailures();
    }

    @Test
    void aThreadIsBoundToOneContext() {
        AiolosContext a = contexts.open("a");
        AiolosContext b = contexts.open("b");
        a.poll(false); // binds this thread to a
        assertSame(a, AioContext.current());
        assertThrows(IllegalStateException.class, () -> AioContext.setCurrent(b));
        b.poll(false); // polling b from here is allowed; the current context stays a
        assertSame(a, AioContext.current());
        contexts.closeAll();
        assertNull(AioContext.current(), "closing the current context unbinds the thread");
    }
}
