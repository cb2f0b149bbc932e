package org.aiolos.core.clock;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.aiolos.api.ClockType;
import org.aiolos.api.Clocks;

/**
 * A set of the four clocks and the timer lists that run on them (QEMU's process-wide
 * {@code QEMUClock}s). Contexts share {@link #system()} unless built with their own
 * group, which is how tests get a virtual clock nobody else moves.
 *
 * <p>VIRTUAL (and VIRTUAL_RT, which equals it as in QEMU without icount) advances with
 * the monotonic clock only while enabled, and by hand through {@link #advanceVirtual};
 * it starts disabled, as in QEMU, where it is enabled when the guest starts.
 */
public final class ClockGroup implements Clocks {
    private static final ClockGroup SYSTEM = new ClockGroup();

    /** What a timer list exposes to its clocks. */
    public interface TimerListHandle {
        /** Blocks until a running pass of the list's timers has returned. */
        void awaitNotRunning();

        /** The clock was enabled or moved: re-evaluate deadlines. */
        void clockChanged();
    }

    private final List<TimerListHandle>[] lists;
    private final Object virtualLock = new Object();
    /** Replaced as a whole (under virtualLock) so readers see a consistent triple. */
    private volatile VirtualState virtual = new VirtualState(0, 0, false);

    /**
     * @param base the VIRTUAL value in ns at {@code since}
     * @param since System.nanoTime() when this state began
     * @param enabled whether VIRTUAL runs
     */
    private record VirtualState(long base, long since, boolean enabled) {
        long now() {
            return enabled ? base + (System.nanoTime() - since) : base;
        }
    }

    @SuppressWarnings("unchecked")
    public ClockGroup() {
        lists = new List[ClockType.values().length];
        for (int i = 0; i < lists.length; i++) {
            lists[i] = new CopyOnWriteArrayList<>();
        }
    }

    /** The group every context uses unless told otherwise. */
    public static ClockGroup system() {
        return SYSTEM;
    }

    @Override
    public long nowNs(ClockType clock) {
        return switch (clock) {
            case REALTIME -> System.nanoTime();
            case HOST -> hostNs();
            case VIRTUAL, VIRTUAL_RT -> virtualNs();
        };
    }

    private static long hostNs() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    private long virtualNs() {
        return virtual.now();
    }

    @Override
    public boolean isEnabled(ClockType clock) {
        return switch (clock) {
            case REALTIME, HOST -> true;
            case VIRTUAL, VIRTUAL_RT -> virtual.enabled();
        };
    }

    @Override
    public void enable(ClockType clock, boolean enabled) {
        if (clock == ClockType.REALTIME || clock == ClockType.HOST) {
            if (!enabled) {
                throw new IllegalArgumentException(clock + " always runs; only VIRTUAL and VIRTUAL_RT can be disabled");
            }
            return;
        }
        synchronized (virtualLock) {
            VirtualState state = virtual;
            if (state.enabled() == enabled) {
                return;
            }
            long nano = System.nanoTime();
            virtual = new VirtualState(state.now(), nano, enabled);
        }
        for (ClockType type : new ClockType[] {ClockType.VIRTUAL, ClockType.VIRTUAL_RT}) {
            for (TimerListHandle list : lists[type.ordinal()]) {
                if (enabled) {
                    list.clockChanged();
                } else {
                    list.awaitNotRunning();
                }
            }
        }
    }

    @Override
    public void advanceVirtual(long deltaNs) {
        if (deltaNs < 0) {
            throw new IllegalArgumentException("the virtual clock only moves forward; deltaNs = " + deltaNs);
        }
        synchronized (virtualLock) {
            VirtualState state = virtual;
            if (state.base() > Long.MAX_VALUE - deltaNs) {
                throw new IllegalArgumentException("advancing the virtual clock by " + deltaNs
                        + " ns would overflow (its base is at " + state.base() + " ns); the clock is unchanged");
            }
            virtual = new VirtualState(state.base() + deltaNs, state.since(), state.enabled());
        }
        for (TimerListHandle list : lists[ClockType.VIRTUAL.ordinal()]) {
            list.clockChanged();
        }
        for (TimerListHandle list : lists[ClockType.VIRTUAL_RT.ordinal()]) {
            list.clockChanged();
        }
    }

    /** Attaches a context's timer list so clock changes reach it. */
    public void attach(ClockType clock, TimerListHandle list) {
        lists[clock.ordinal()].add(list);
    }

    /** Detaches a timer list of a closed context. */
    public void detach(ClockType clock, TimerListHandle list) {
        lists[clock.ordinal()].remove(list);
    }
}
