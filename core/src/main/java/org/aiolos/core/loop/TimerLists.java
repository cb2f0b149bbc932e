package org.aiolos.core.loop;

import java.util.List;
import java.util.function.Consumer;
import org.aiolos.api.ClockType;
import org.aiolos.core.clock.ClockGroup;

/**
 * A context's timers: one {@link TimerList} per clock type, run in {@link ClockType} order
 * (QEMU's {@code QEMUTimerListGroup} in {@code util/qemu-timer.c}: {@code timerlistgroup_deadline_ns},
 * {@code timerlistgroup_run_timers}).
 */
final class TimerLists {
    private final TimerList[] lists = new TimerList[ClockType.values().length];
    private final ClockGroup clocks;

    /** @param notify wakes the loop when a timer becomes the earliest */
    TimerLists(ClockGroup clocks, Runnable notify) {
        this.clocks = clocks;
        for (ClockType type : ClockType.values()) {
            lists[type.ordinal()] = new TimerList(type, clocks, notify);
        }
    }

    TimerList of(ClockType clock) {
        return lists[clock.ordinal()];
    }

    /** Follows the clocks (a clock that jumps re-evaluates its list's deadline). */
    void attach() {
        for (TimerList list : lists) {
            clocks.attach(list.clockType, list);
        }
    }

    void detach() {
        for (TimerList list : lists) {
            clocks.detach(list.clockType, list);
        }
    }

    /** ns until the earliest timer on any clock, 0 if one expired, -1 with none armed. */
    long deadlineNs() {
        long deadline = -1;
        for (TimerList list : lists) {
            if (list.hasTimers()) {
                deadline = PollMode.soonest(deadline, list.deadlineNs());
            }
        }
        return deadline;
    }

    /** Runs every expired timer; true if any ran. */
    boolean run(CallbackRunner runner, LoopStats stats) {
        boolean progress = false;
        for (TimerList list : lists) {
            if (list.hasTimers() && list.run(runner)) {
                progress = true;
                stats.timersRun++;
            }
        }
        return progress;
    }

    /** Armed timers on every clock; sizes read without the lists' locks, for monitoring only. */
    int pendingRacy() {
        int n = 0;
        for (TimerList list : lists) {
            n += list.size();
        }
        return n;
    }

    /**
     * The leak check of the context's close, with every list locked from the check until
     * it is marked closed: a timer armed from another thread meanwhile is either seen here
     * or refused by its list. The other leaks are checked under the same locks; nothing
     * else may be locked or called while they are held (a pool arms its retry timer under
     * its own lock, so taking that lock here could deadlock).
     *
     * @param leaks gets what {@code leaksBefore} adds, the armed timers, then what {@code leaksAfter} adds
     * @param markClosed run under the locks when nothing leaked (or {@code evenWithLeaks})
     * @param evenWithLeaks close whatever is left: its timers never fire, arming them throws
     * @return whether the lists are now closed
     */
    boolean closeUnlessPending(List<String> leaks, Consumer<List<String>> leaksBefore,
                               Consumer<List<String>> leaksAfter, Runnable markClosed, String contextName,
                               boolean evenWithLeaks) {
        int locked = 0;
        try {
            for (TimerList list : lists) {
                list.lockForClose();
                locked++;
            }
            leaksBefore.accept(leaks);
            for (TimerList list : lists) {
                for (TimerImpl t : list.pending()) { // reentrant: this thread holds the lock
                    leaks.add(t.toString());
                }
            }
            leaksAfter.accept(leaks);
            if (!leaks.isEmpty() && !evenWithLeaks) {
                return false;
            }
            markClosed.run();
            for (TimerList list : lists) {
                list.markClosedLocked(contextName);
            }
            return true;
        } finally {
            for (int i = locked - 1; i >= 0; i--) {
                lists[i].unlockForClose();
            }
        }
    }
}
