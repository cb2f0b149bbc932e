package org.aiolos.core.coroutine;

import org.aiolos.api.AioContext;

/**
 * What a coroutine runs on: a stack that can be suspended and resumed. One fiber runs
 * one coroutine body after another (it goes back to a {@link FiberPool} in between),
 * like QEMU's trampoline that loops over entry functions of recycled coroutines.
 *
 * <p>Threads: {@link #co} is written by the enterer before {@link #resume()}; the
 * hand-off that resume performs publishes it to the fiber.
 */
abstract class Fiber {
    /** The coroutine whose body this fiber runs; null while pooled. */
    CoroutineImpl co;

    /**
     * Runs the bound coroutine until it suspends or its body ends; called by the
     * enterer, which continues only after that.
     *
     * @param resumer the enterer's coroutine state, which the coroutine acts for
     * @param resumerContext the enterer's current context, which the coroutine sees
     */
    abstract void resume(ThreadState resumer, AioContext resumerContext);

    /**
     * Called from inside the coroutine: gives control back to the enterer and returns
     * when resumed.
     *
     * @throws org.aiolos.api.coroutine.CoroutinePinnedException if the stack cannot be
     *     suspended; nothing happened then
     */
    abstract void suspend();

    /**
     * Fails now, with nothing changed, if {@link #suspend()} would fail; lock waits call it
     * before they queue the coroutine, so a pinned stack never leaves a stale waiter.
     */
    void ensureCanSuspend() {
    }

    /** Releases what the fiber holds; it is never resumed again. */
    abstract void destroy();

    /** The shared trampoline step: runs the bound body to its end. */
    final void runBoundBody() {
        co.runBody();
    }
}
