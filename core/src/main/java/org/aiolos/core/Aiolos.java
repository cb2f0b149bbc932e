package org.aiolos.core;

import org.aiolos.api.IOThread;
import org.aiolos.core.loop.ContextImpl;
import org.aiolos.core.loop.IOThreadImpl;

/**
 * Creates contexts and IOThreads.
 *
 * <pre>{@code
 * try (AiolosContext ctx = Aiolos.newContext("demo")) {
 *     BottomHalf bh = ctx.newBottomHalf("hello", () -> System.out.println("hello"));
 *     bh.schedule();
 *     ctx.poll(true);
 *     bh.delete();
 * }
 * }</pre>
 */
public final class Aiolos {
    private Aiolos() {
    }

    /** A context with QEMU's defaults (polling off), driven by whoever polls it first. */
    public static AiolosContext newContext(String name) {
        return newContext(ContextOptions.defaults(name));
    }

    public static AiolosContext newContext(ContextOptions options) {
        return new ContextImpl(options);
    }

    /** An IOThread with QEMU's IOThread defaults (polling up to {@value org.aiolos.api.PollParams#IOTHREAD_POLL_MAX_NS} ns); not started. */
    public static IOThread newIOThread(String name) {
        return newIOThread(ContextOptions.ioThreadDefaults(name));
    }

    public static IOThread newIOThread(ContextOptions options) {
        return new IOThreadImpl(new ContextImpl(options));
    }
}
