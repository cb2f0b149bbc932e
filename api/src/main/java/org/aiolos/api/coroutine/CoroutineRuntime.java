package org.aiolos.api.coroutine;

import org.aiolos.api.AioContext;
import org.aiolos.api.ClockType;

/**
 * The implementation behind {@link Coroutines}: provided by {@code org.aiolos.core}.
 * Applications call {@link Coroutines}; only a runtime implements this. Each method has
 * the contract of the {@link Coroutines} method of the same name.
 */
public interface CoroutineRuntime {

    /** The backend in use ({@code continuation} or {@code virtual-thread}). */
    String backend();

    Coroutine create(String name, Runnable body);

    Coroutine self();

    boolean inCoroutine();

    void yieldNow();

    /**
     * Throws if the calling coroutine could not yield now. The default knows no reason a
     * yield would be refused (a runtime that can be pinned overrides it).
     *
     * @since 0.2.0
     */
    default void ensureCanYield() {
        if (!inCoroutine()) {
            throw new IllegalStateException("not in a coroutine: nothing can yield");
        }
    }

    void schedule(AioContext ctx, Coroutine co);

    void enter(AioContext ctx, Coroutine co);

    void wake(Coroutine co);

    void rescheduleSelf(AioContext ctx);

    void sleepNs(ClockType clock, long ns);

    CoSleep newSleep();

    CoMutex newMutex();

    CoQueue newQueue();

    CoRwLock newRwLock();

    /**
     * What {@link AioContext#current()} reports. Inside a coroutine it is the context of
     * the thread that entered it, which the runtime may know better than the thread local
     * ({@code threadContext}): a thread local read in a frame that moved to another
     * thread can be stale. Outside coroutines: {@code threadContext}.
     */
    default AioContext currentContext(AioContext threadContext) {
        return threadContext;
    }
}
