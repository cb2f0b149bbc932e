package org.aiolos.core.backend;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.aiolos.api.AioContext;

/**
 * The backend slots of one context and the one flag that says any of them wants the next
 * safe point. The loop reads that flag at the start of every outermost poll (a plain load
 * on x86: a volatile read), so a context whose backends are settled pays nothing more.
 */
public final class ContextBackends implements SlotHost {
    private final AioContext ctx;
    private final BiConsumer<Object, Throwable> reporter;
    private final Supplier<Thread> home;
    private final List<BackendSlot<?, ?>> slots = new CopyOnWriteArrayList<>();
    /** Set by any thread (release by the volatile write), cleared by the home thread. */
    private volatile boolean attention;
    private volatile long waitNs;

    public ContextBackends(AioContext ctx, long waitNs, BiConsumer<Object, Throwable> reporter,
                           Supplier<Thread> home) {
        this.ctx = ctx;
        this.waitNs = waitNs;
        this.reporter = reporter;
        this.home = home;
    }

    /** Slots take part in safe points from now on. */
    public void add(BackendSlot<?, ?> slot) {
        slots.add(slot);
        attention();
    }

    public void remove(BackendSlot<?, ?> slot) {
        slots.remove(slot);
    }

    public List<BackendSlot<?, ?>> slots() {
        return List.copyOf(slots);
    }

    /** Whether a slot wants the safe point; the loop's fast check. */
    public boolean needsAttention() {
        return attention;
    }

    /**
     * The safe point: the start of an outermost poll in the home thread, when no callback
     * or completion of any backend is running. Cleared before the slots run, so a request
     * made while they do is seen at the next one.
     */
    public void atSafePoint() {
        attention = false;
        boolean again = false;
        for (BackendSlot<?, ?> s : slots) {
            again |= s.atSafePoint();
        }
        if (again) {
            attention = true; // a backend still drains: look again next time round
        }
    }

    @Override
    public AioContext context() {
        return ctx;
    }

    @Override
    public void attention() {
        attention = true;
        ctx.wakeUp();
    }

    @Override
    public void report(Object source, Throwable failure) {
        reporter.accept(source, failure);
    }

    @Override
    public long backendWaitNs() {
        return waitNs;
    }

    public void setBackendWaitNs(long ns) {
        if (ns < 0) {
            throw new IllegalArgumentException("backend-wait-ms must be >= 0, got " + ns + " ns");
        }
        waitNs = ns;
    }

    @Override
    public Thread homeThread() {
        return home.get();
    }
}
