package org.aiolos.core.coroutine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.api.coroutine.CoSleep;

/**
 * QEMU {@code QemuCoSleep} ({@code util/qemu-coroutine-sleep.c}): the sleeper marks itself
 * scheduled by
 * {@value #MARKER}, parks its handle here and yields; a timer of its context, or an early
 * {@link #wake()}, takes the handle back (atomically, so the two cannot both wake it)
 * and wakes it where it last ran.
 */
final class CoSleepImpl implements CoSleep {
    static final String MARKER = "co_sleep_ns";

    private static final VarHandle TO_WAKE;

    static {
        try {
            TO_WAKE = MethodHandles.lookup().findVarHandle(CoSleepImpl.class, "toWake", CoroutineImpl.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final CoroutineEngine engine;
    @SuppressWarnings("unused") // through TO_WAKE
    private volatile CoroutineImpl toWake;

    CoSleepImpl(CoroutineEngine engine) {
        this.engine = engine;
    }

    @Override
    public void sleepNs(ClockType clock, long ns) {
        Objects.requireNonNull(clock, "clock");
        CoroutineImpl self = CoroutineEngine.requireSelf("sleepNs");
        AioContext ctx = AioContext.current();
        if (ctx == null) {
            throw new IllegalStateException("sleepNs: " + self + " runs in a thread without an AioContext, "
                    + "so there is no timer to wake it");
        }
        self.fiber.ensureCanSuspend();
        // The timer fires in this same context, so only after we have yielded.
        AioTimer timer = ctx.newTimer(clock, TimeScale.NS, this::wake);
        long now = ctx.clocks().nowNs(clock);
        long deadline = ns > 0 && now > Long.MAX_VALUE - ns ? Long.MAX_VALUE : now + Math.max(ns, 0);
        timer.modNs(deadline);
        try {
            sleep(self);
        } finally {
            timer.cancel();
        }
    }

    /** QEMU {@code qemu_co_sleep}. */
    private void sleep(CoroutineImpl self) {
        park(self);
        engine.yieldNow();
        if (TO_WAKE.getVolatile(this) == self) {
            throw new IllegalStateException(self + " was entered while sleeping, not woken");
        }
    }

    /** The claim half of {@link #sleep}: marks {@code self} scheduled by {@value #MARKER} and parks it here. */
    void park(CoroutineImpl self) {
        String previous = self.claimScheduled(MARKER);
        if (previous != null) {
            throw new IllegalStateException(MARKER + ": " + self + " was already scheduled in '" + previous + "'");
        }
        if (!TO_WAKE.compareAndSet(this, (CoroutineImpl) null, self)) {
            self.releaseScheduled(MARKER);
            throw new IllegalStateException("sleepNs: " + TO_WAKE.getVolatile(this) + " already sleeps on this CoSleep");
        }
    }

    /** QEMU {@code qemu_co_sleep_wake}. */
    @Override
    public void wake() {
        CoroutineImpl co = unpark();
        if (co != null) {
            engine.wake(co);
        }
    }

    /**
     * The claim half of {@link #wake}: takes the sleeper back (atomically, so a timer and an
     * early wake cannot both get it) and releases its {@value #MARKER} marker.
     *
     * @return the sleeper to wake, or null if there is none (already woken)
     */
    CoroutineImpl unpark() {
        CoroutineImpl co = (CoroutineImpl) TO_WAKE.getAndSet(this, (CoroutineImpl) null);
        if (co == null) {
            return null;
        }
        if (!co.releaseScheduled(MARKER)) {
            throw new IllegalStateException("co_sleep_wake: " + co + " should be marked '" + MARKER
                    + "' but is marked '" + co.scheduledBy() + "'");
        }
        return co;
    }
}
