package org.aiolos.core.osgi;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.aiolos.api.ContextStats;

/**
 * {@code aio:top}: per-second rates of every context, with its pool threads and its pool
 * and disk requests in flight, once per interval: redrawn in place (ANSI home and clear) on
 * a terminal, one frame after the other elsewhere (a script, a pipe, a log).
 */
final class TopView {
    private static final String CLEAR = "\033[H\033[2J";
    private final PrintStream out;
    private final boolean terminal;

    TopView(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    void run(Collection<ContextEntry> contexts, int count, long intervalMs) throws InterruptedException {
        if (count <= 0 || intervalMs <= 0) {
            throw new IllegalArgumentException("top: count and interval must be > 0, got " + count + " and "
                    + intervalMs);
        }
        Map<String, ContextStats> before = snapshot(contexts);
        long t0 = System.nanoTime();
        for (int i = 0; i < count; i++) {
            Thread.sleep(intervalMs);
            Map<String, ContextStats> now = snapshot(contexts);
            long t1 = System.nanoTime();
            if (terminal) {
                out.print(CLEAR);
            }
            out.print(frame(before, now, backendLoad(contexts), (t1 - t0) / 1e9, i + 1, count));
            out.flush();
            before = now;
            t0 = t1;
        }
    }

    /** Per context: pool threads, pool requests in flight, disk requests in flight. */
    private static Map<String, int[]> backendLoad(Collection<ContextEntry> contexts) {
        Map<String, int[]> m = new HashMap<>();
        for (ContextEntry e : new ArrayList<>(contexts)) {
            m.put(e.name(), new int[] {e.context().threadPool().threadCount(), e.context().threadPool().inFlight(),
                    e.context().diskIo().inFlight()});
        }
        return m;
    }

    static String frame(Map<String, ContextStats> before, Map<String, ContextStats> now, Map<String, int[]> load,
                        double seconds, int n, int count) {
        StringBuilder sb = new StringBuilder(String.format("aio top  (%d/%d, rates per second)%n", n, count));
        sb.append(String.format("%-14s %-9s %10s %10s %10s %9s %9s %8s %6s %5s %6s %6s%n", "CONTEXT", "FDMON", "ITER/s",
                "BH/s", "FD/s", "HIT/s", "MISS/s", "POLL-NS", "TIMERS", "POOL", "P-INFL", "D-INFL"));
        for (Map.Entry<String, ContextStats> e : now.entrySet()) {
            ContextStats b = before.get(e.getKey());
            ContextStats s = e.getValue();
            if (b == null) {
                b = s;
            }
            int[] l = load.getOrDefault(e.getKey(), new int[3]);
            sb.append(String.format("%-14s %-9s %10.0f %10.0f %10.0f %9.0f %9.0f %8d %6d %5d %6d %6d%n", e.getKey(),
                    s.fdMonitor(), (s.iterations() - b.iterations()) / seconds,
                    (s.bottomHalvesRun() - b.bottomHalvesRun()) / seconds,
                    (s.fdsDispatched() - b.fdsDispatched()) / seconds, (s.pollHits() - b.pollHits()) / seconds,
                    (s.pollMisses() - b.pollMisses()) / seconds, s.pollNs(), s.timersPending(), l[0], l[1], l[2]));
        }
        return sb.toString();
    }

    private static Map<String, ContextStats> snapshot(Collection<ContextEntry> contexts) {
        Map<String, ContextStats> m = new HashMap<>();
        List<ContextEntry> copy = new ArrayList<>(contexts);
        for (ContextEntry e : copy) {
            m.put(e.name(), e.context().stats());
        }
        return new java.util.TreeMap<>(m);
    }
}
