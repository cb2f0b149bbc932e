package org.aiolos.core.loop;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one context's loop, written by the home thread with plain stores (cheap on
 * the hot path) and read racily by monitoring code, which may see a value a little old.
 */
final class LoopStats {
    long iterations;
    long waits;
    long bhsRun;
    long fdsDispatched;
    long timersRun;
    long pollHits;
    long pollMisses;
    long monitorSwaps;
    /** Written by any thread that wakes a blocked loop. */
    final LongAdder notifierWrites = new LongAdder();
}
