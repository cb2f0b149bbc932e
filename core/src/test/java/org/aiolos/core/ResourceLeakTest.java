package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.IOThread;
import org.aiolos.linux.EventFd;
import org.aiolos.linux.Fds;
import org.junit.jupiter.api.Test;

/** Closing contexts and IOThreads leaves no fd and no thread behind. */
class ResourceLeakTest {

    @Test
    void fdAndThreadCountsAreUnchangedAfterClosingContextsAndIOThreads() throws Exception {
        TestContexts contexts = new TestContexts();
        warmUp(contexts);
        int fdsBefore = Fds.openFdCount();
        int threadsBefore = liveThreads();
        for (int i = 0; i < 50; i++) {
            AiolosContext ctx = Aiolos.newContext(contexts.options("leak-" + i));
            EventFd extra = EventFd.open(false);
            ctx.setEventNotifier(extra, extra::testAndClear, null, null);
            BottomHalf bh = ctx.newBottomHalf("bh", () -> { });
            bh.schedule();
            ctx.poll(false);
            bh.delete();
            ctx.setEventNotifier(extra, null, null, null);
            ctx.close();
            extra.close();

            IOThread io = Aiolos.newIOThread(contexts.options("leak-io-" + i));
            io.start();
            io.context().scheduleOneshot("x", () -> { });
            io.close();
        }
        assertEquals(fdsBefore, Fds.openFdCount(), "file descriptors leaked");
        assertEquals(threadsBefore, liveThreads(), "threads leaked");
        contexts.assertNoFailures();
    }

    @Test
    void aFailedCloseLeaksNothingOnceTheWorkIsDeleted() {
        TestContexts contexts = new TestContexts();
        warmUp(contexts);
        int fdsBefore = Fds.openFdCount();
        AiolosContext ctx = Aiolos.newContext(contexts.options("refused"));
        BottomHalf bh = ctx.newBottomHalf("kept", () -> { });
        bh.schedule();
        try {
            ctx.close();
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage().contains("'kept'"));
        }
        bh.delete();
        ctx.close();
        assertEquals(fdsBefore, Fds.openFdCount());
    }

    private static void warmUp(TestContexts contexts) {
        AiolosContext ctx = Aiolos.newContext(contexts.options("warm"));
        ctx.poll(false);
        ctx.close();
    }

    private static int liveThreads() throws InterruptedException {
        // Threads that have just been joined are gone; give the JVM's own a moment to settle.
        Thread.sleep(50);
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }
}
