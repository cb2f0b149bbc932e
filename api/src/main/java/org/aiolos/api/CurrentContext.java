package org.aiolos.api;

/** The thread-to-context binding behind {@link AioContext#current()}. */
final class CurrentContext {
    private static final ThreadLocal<AioContext> CURRENT = new ThreadLocal<>();

    private CurrentContext() {
    }

    static AioContext get() {
        return CURRENT.get();
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
