package org.aiolos.core;

import org.aiolos.api.AioContext;

/**
 * Receives exceptions thrown by callbacks (bottom halves, fd handlers, timers). The loop
 * catches them so one faulty callback cannot break the context: it reports the failure
 * here and carries on with the next callback. The default logs at WARNING.
 */
@FunctionalInterface
public interface CallbackFailureHandler {

    /**
     * @param ctx the context whose loop ran the callback
     * @param source what ran it (a bottom half, handler or timer), for the message
     * @param failure what it threw
     */
    void callbackFailed(AioContext ctx, Object source, Throwable failure);

    /** Logs through {@link System.Logger} at WARNING. */
    static CallbackFailureHandler logging() {
        return (ctx, source, failure) -> System.getLogger("org.aiolos.core").log(System.Logger.Level.WARNING,
                () -> "AioContext '" + ctx.name() + "': " + source + " threw", failure);
    }
}
