package org.aiolos.diskio;

import java.lang.foreign.MemorySegment;

/**
 * Names the thread a confined segment belongs to, for a refusal's message. FFM has no
 * accessor for a confined scope's owner, only {@link MemorySegment#isAccessibleBy(Thread)},
 * which holds for that one thread alone: the live threads are asked in turn. Only on the
 * failure path: it allocates and walks every thread.
 */
final class ConfinedOwner {
    private ConfinedOwner() {
    }

    /** {@code "thread 'main'"}, or a phrase saying the owner has ended. */
    static String describe(MemorySegment segment) {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (segment.isAccessibleBy(t)) {
                return "thread '" + t.getName() + "'";
            }
        }
        return "a thread that has ended (Arena.ofConfined() of a thread no longer alive)";
    }
}
