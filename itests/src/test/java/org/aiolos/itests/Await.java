package org.aiolos.itests;

import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition: the container works asynchronously (SCR, Config Admin, safe points). */
final class Await {
    private Await() {
    }

    static void until(String what, long timeoutMs, BooleanSupplier cond) throws InterruptedException {
        until(() -> what, timeoutMs, cond);
    }

    /** @param what described when the time is up, so it can report the state at that moment */
    static void until(Supplier<String> what, long timeoutMs, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeoutMs + " ms waiting for " + what.get());
            }
            Thread.sleep(5);
        }
    }

    static <T> T value(String what, long timeoutMs, Supplier<T> s) throws InterruptedException {
        Object[] box = new Object[1];
        until(what, timeoutMs, () -> (box[0] = s.get()) != null);
        @SuppressWarnings("unchecked")
        T t = (T) box[0];
        return t;
    }
}
