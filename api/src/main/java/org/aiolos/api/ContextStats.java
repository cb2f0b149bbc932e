package org.aiolos.api;

/**
 * A snapshot of one context's loop counters. The loop writes them with plain stores, so
 * a snapshot taken from another thread may be slightly behind.
 *
 * @param iterations calls of poll
 * @param waits calls into the fd monitor's wait
 * @param bottomHalvesRun bottom-half callbacks run
 * @param fdsDispatched handler dispatches that made progress
 * @param timerPasses timer passes that ran at least one callback
 * @param pollHits busy-poll rounds that found work
 * @param pollMisses busy-poll rounds that found nothing
 * @param notifierWrites eventfd writes made to wake the blocked loop
 * @param monitorSwaps fd-monitor swaps
 * @param callbackFailures callbacks that threw
 * @param handlers live fd handlers (including the context's notifier)
 * @param fdMonitor the monitor in use
 * @param timersPending armed timers on every clock
 * @param pollNs the longest current adaptive poll time among the handlers, in ns (what
 *     the next busy poll will spend at most)
 * @param coroutinesScheduled coroutines queued to be entered by this context's loop (QEMU's
 *     {@code scheduled_coroutines} list of {@code AioContext}, util/async.c)
 */
public record ContextStats(long iterations, long waits, long bottomHalvesRun, long fdsDispatched, long timerPasses,
                           long pollHits, long pollMisses, long notifierWrites, long monitorSwaps,
                           long callbackFailures, int handlers, String fdMonitor, int timersPending, long pollNs,
                           int coroutinesScheduled) {

    /** The snapshot without the coroutine count (0), as built before that count existed. */
    public ContextStats(long iterations, long waits, long bottomHalvesRun, long fdsDispatched, long timerPasses,
                        long pollHits, long pollMisses, long notifierWrites, long monitorSwaps,
                        long callbackFailures, int handlers, String fdMonitor, int timersPending, long pollNs) {
        this(iterations, waits, bottomHalvesRun, fdsDispatched, timerPasses, pollHits, pollMisses, notifierWrites,
                monitorSwaps, callbackFailures, handlers, fdMonitor, timersPending, pollNs, 0);
    }
}
