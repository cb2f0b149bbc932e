package org.aiolos.core.loop;

import java.util.Objects;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;

/** A timer in one of its context's timer lists (QEMU {@code QEMUTimer}). */
final class TimerImpl implements AioTimer {
    final TimerList list;
    final TimeScale scale;
    final int attributes;
    final Runnable callback;

    /** Guarded by list's lock. -1 when not pending. */
    long expireTime = -1;
    /** Arming order, so equal deadlines fire first-armed first. Guarded by list's lock. */
    long sequence;
    /** Position in the list's heap, -1 when not pending. Guarded by list's lock. */
    int heapIndex = -1;

    TimerImpl(TimerList list, TimeScale scale, int attributes, Runnable callback) {
        this.list = list;
        this.scale = Objects.requireNonNull(scale, "scale");
        this.attributes = attributes;
        this.callback = Objects.requireNonNull(callback, "callback");
    }

    @Override
    public ClockType clock() {
        return list.clockType;
    }

    @Override
    public TimeScale scale() {
        return scale;
    }

    @Override
    public int attributes() {
        return attributes;
    }

    @Override
    public void modNs(long expireNs) {
        list.mod(this, expireNs, false);
    }

    @Override
    public void mod(long expireTime) {
        modNs(scaled(expireTime));
    }

    @Override
    public void modAnticipateNs(long expireNs) {
        list.mod(this, expireNs, true);
    }

    @Override
    public void modAnticipate(long expireTime) {
        modAnticipateNs(scaled(expireTime));
    }

    private long scaled(long time) {
        long ns = time * scale.nanos();
        // Saturate instead of wrapping: "a very long time" must not become the past.
        if (scale.nanos() != 1 && ns / scale.nanos() != time) {
            return time < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return ns;
    }

    @Override
    public void cancel() {
        list.cancel(this);
    }

    @Override
    public boolean isPending() {
        return list.expireTimeOf(this) >= 0;
    }

    @Override
    public long expireTimeNs() {
        return list.expireTimeOf(this);
    }

    @Override
    public boolean isExpired(long currentTime) {
        // As in QEMU: a timer that is not pending has expire_time -1, so it counts as expired.
        return list.expireTimeOf(this) <= scaled(currentTime);
    }

    /** For messages built under the list's lock (toString takes it). */
    String describe() {
        return "timer on " + list.clockType + " calling " + callback.getClass().getName();
    }

    @Override
    public String toString() {
        long expire = list.expireTimeOf(this);
        return "timer on " + list.clockType + (expire >= 0 ? " expiring at " + expire + " ns" : " (not pending)")
                + " calling " + callback.getClass().getName();
    }
}
