package org.aiolos.api;

import org.aiolos.api.coroutine.CoroutineRuntime;
import org.aiolos.api.coroutine.Coroutines;

/**
 * The thread-to-context binding behind {@link AioContext#current()}. Inside a coroutine
 * the coroutine runtime has the last word (see {@link CoroutineRuntime#currentContext}).
 */
final class CurrentContext {
    private static final ThreadLocal<AioContext> CURRENT = new ThreadLocal<>();

    private CurrentContext() {
    }

    static AioContext get() {
        AioContext own = CURRENT.get();
        CoroutineRuntime r = Coroutines.installedRuntime();
        return r == null ? own : r.currentContext(own);
    }

    static void set(AioContext ctx) {
        AioContext old = CURRENT.get();
        if (old != null && old != ctx && ctx != null) {
            throw new IllegalStateException("thread " + Thread.currentThread().getName()
                    + " is already bound to AioContext '" + old.name() + "'; a thread runs one context");
        }
        if (ctx == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(ctx);
        }
    }
}
