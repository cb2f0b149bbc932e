package org.aiolos.core.loop;

import java.util.function.BooleanSupplier;
import org.aiolos.api.AioContext;
import org.aiolos.core.CallbackFailureHandler;

/** Runs user callbacks so that an exception is reported and the loop goes on. */
final class CallbackRunner {
    private final AioContext ctx;
    private final CallbackFailureHandler handler;
    long failures;

    CallbackRunner(AioContext ctx, CallbackFailureHandler handler) {
        this.ctx = ctx;
        this.handler = handler;
    }

    void run(Runnable callback, Object source) {
        try {
            callback.run();
        } catch (Throwable t) {
            report(source, t);
        }
    }

    /** A poll callback that throws counts as "no work". */
    boolean poll(BooleanSupplier callback, Object source) {
        try {
            return callback.getAsBoolean();
        } catch (Throwable t) {
            report(source, t);
            return false;
        }
    }

    void report(Object source, Throwable t) {
        failures++;
        try {
            handler.callbackFailed(ctx, source, t);
        } catch (Throwable ignored) {
            // A failing failure handler must not take the loop down either.
        }
    }
}
