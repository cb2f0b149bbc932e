package org.aiolos.core.loop;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.aiolos.api.AioContext;
import org.aiolos.api.IOThread;

/**
 * A platform thread running one context's loop with blocking polls (QEMU
 * {@code iothread.c}). Stopping goes through a bottom half in the loop itself, so the
 * iteration in progress completes and nothing is cut off mid-dispatch.
 */
public final class IOThreadImpl implements IOThread {
    /**
     * The thread's stack. A coroutine entered from another one runs on the entering thread's
     * stack (the continuation backend mounts it there), so nesting depth is bounded by it:
     * about 500 levels on the JVM's default 1 MiB, about 4,000 here. QEMU gives each
     * coroutine a stack of its own. Only the pages a thread touches cost memory.
     */
    static final long STACK_BYTES = 8L << 20;

    private final ContextImpl ctx;
    private final CountDownLatch started = new CountDownLatch(1);
    private volatile boolean running;
    private volatile Thread thread;
    private volatile Throwable crash;
    /** Set by close()'s bottom half: the loop closes the context itself as it ends. */
    private volatile boolean closeOnExit;
    /** What that close left (or how it failed), for close() to report once the thread is joined. */
    private volatile List<String> abandonedAtExit;
    private volatile Throwable closeFailedAtExit;

    public IOThreadImpl(ContextImpl ctx) {
        this.ctx = ctx;
        ctx.ownedBy("IOThread '" + ctx.name() + "'");
    }

    @Override
    public String name() {
        return ctx.name();
    }

    @Override
    public AioContext context() {
        return ctx;
    }

    @Override
    public synchronized void start() {
        if (ctx.isClosed()) {
            throw new IllegalStateException("IOThread '" + name() + "' is closed; it cannot start again");
        }
        Thread current = thread;
        if (current != null) {
            if (!running || !current.isAlive()) {
                // Its context is bound to the thread that ended: a new one would not be its home.
                Throwable failed = crash;
                throw new IllegalStateException("IOThread '" + name() + "' has stopped"
                        + (failed == null ? "" : " (its loop failed: " + failed + ")")
                        + "; an IOThread runs once: create another one for its work");
            }
            return;
        }
        running = true;
        Thread t = Thread.ofPlatform().name(ctx.name()).daemon(true).stackSize(STACK_BYTES).unstarted(this::run);
        ctx.bindHomeThread(t);
        thread = t;
        t.start();
        boolean interrupted = false;
        while (true) {
            try {
                started.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        AioContext.setCurrent(ctx);
        started.countDown();
        try {
            // This frame is entered once and stays interpreted until the JIT replaces it on
            // the stack, which at a few thousand iterations a second takes tens of seconds
            // (a profile of a QD1 NBD server 12 s after start: 1.4 % of the IOThread's CPU in
            // the interpreter). The loop's body is a method of its own, compiled as soon as
            // it is hot, so the interpreter runs only this loop's test and call.
            while (running) {
                iterate();
            }
        } catch (Throwable t) {
            crash = t;
            running = false;
            System.getLogger("org.aiolos.core").log(System.Logger.Level.ERROR,
                    "IOThread '" + ctx.name() + "' stopped by an exception from its loop", t);
        } finally {
            try {
                if (closeOnExit) {
                    closeContext();
                }
            } finally {
                AioContext.setCurrent(null);
            }
        }
    }

    /**
     * Closes the context in its home thread, after the last iteration: the completions of
     * requests still in flight run here, where the engines' contract says they run, and a
     * completion that submits again meets the context closing.
     */
    private void closeContext() {
        try {
            abandonedAtExit = ctx.closeAbandoningLeftovers();
        } catch (Throwable t) {
            closeFailedAtExit = t;
        }
    }

    private void iterate() {
        ctx.poll(true);
        // An IOThread stops through stop(), never by an interrupt: one would only keep every
        // later wait from blocking.
        Thread.interrupted();
    }

    @Override
    public void stop() {
        stop(false);
    }

    /** Ends the loop through a bottom half and joins the thread; {@code close}: the loop closes the context first. */
    private void stop(boolean close) {
        Thread t;
        synchronized (this) {
            t = thread;
            if (t == null) {
                return;
            }
        }
        if (t == Thread.currentThread()) {
            throw new IllegalStateException("IOThread '" + name() + "' cannot " + (close ? "close" : "stop")
                    + " and join itself; " + (close ? "close" : "stop") + " it from another thread");
        }
        if (t.isAlive() && running && !ctx.isClosed()) {
            try {
                ctx.scheduleOneshot(close ? "iothread-close" : "iothread-stop", () -> {
                    closeOnExit |= close;
                    running = false;
                });
            } catch (IllegalStateException closedMeanwhile) {
                // the context closed since the test above: the loop is ending anyway
            }
        }
        boolean interrupted = false;
        while (t.isAlive()) {
            try {
                t.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean isRunning() {
        Thread t = thread;
        return running && t != null && t.isAlive();
    }

    @Override
    public Thread thread() {
        return thread;
    }

    /** The exception that ended the loop, if one did. */
    public Throwable crash() {
        return crash;
    }

    /**
     * Stops the thread and closes its context. A running IOThread closes the context itself
     * after its last iteration, so the completions of requests still in flight run in the
     * IOThread (and a completion that submits again is told the context is closing); a
     * thread that never started, or has stopped, leaves the close to the caller. The context
     * closes even when a user left a bottom half scheduled, a timer armed or a coroutine
     * scheduled: no thread will run it again, so keeping it open would only keep its
     * descriptors open for good.
     *
     * @throws IllegalStateException after closing, naming what was left (and will never run)
     */
    @Override
    public void close() {
        stop(true);
        Throwable failed = closeFailedAtExit;
        if (failed != null) {
            closeFailedAtExit = null;
            if (failed instanceof RuntimeException e) {
                throw e;
            }
            if (failed instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException("IOThread '" + name() + "' failed to close its context", failed);
        }
        List<String> abandoned = abandonedAtExit;
        abandonedAtExit = null;
        if (abandoned == null) {
            abandoned = ctx.closeAbandoningLeftovers(); // the loop did not close it: not started, or stopped
        }
        if (!abandoned.isEmpty()) {
            throw new IllegalStateException("IOThread '" + name() + "' closed with " + String.join(", ", abandoned)
                    + " left in its context; they will never run (cancel timers and delete bottom halves"
                    + " before the IOThread stops)");
        }
    }

    @Override
    public String toString() {
        return "IOThread '" + name() + "'" + (isRunning() ? " (running)" : "");
    }
}
