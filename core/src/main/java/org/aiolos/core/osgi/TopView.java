package org.aiolos.core.osgi;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.aiolos.core.ContextStats;

/**
 * {@code aio:top}: per-second rates of every context, redrawn in place (ANSI home and
 * clear) once per interval.
 */
final class TopView {
    private static final String CLEAR = "\033[H\033[2J";
    private final PrintStream out;

    TopView(PrintStream out) {
        this.out = out;
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
            out.print(CLEAR);
            out.print(frame(before, now, (t1 - t0) / 1e9, i + 1, count));
            out.flush();
            before = now;
            t0 = t1;
        }
    }

    static String frame(Map<String, ContextStats> before, Map<String, ContextStats> now, double seconds, int n,
                        int count) {
        StringBuilder sb = new StringBuilder(String.format("aio top  (%d/%d, rates per second)%n", n, count));
        sb.append(String.format("%-14s %-9s %10s %10s %10s %9s %9s %8s %6s%n", "CONTEXT", "FDMON", "ITER/s",
                "BH/s", "FD/s", "HIT/s", "MISS/s", "POLL-NS", "TIMERS"));
        for (Map.Entry<String, ContextStats> e : now.entrySet()) {
            ContextStats b = before.get(e.getKey());
            ContextStats s = e.getValue();
            if (b == null) {
                b = s;
            }
            sb.append(String.format("%-14s %-9s %10.0f %10.0f %10.0f %9.0f %9.0f %8d %6d%n", e.getKey(),
                    s.fdMonitor(), (s.iterations() - b.iterations()) / seconds,
                    (s.bottomHalvesRun() - b.bottomHalvesRun()) / seconds,
                    (s.fdsDispatched() - b.fdsDispatched()) / seconds, (s.pollHits() - b.pollHits()) / seconds,
                    (s.pollMisses() - b.pollMisses()) / seconds, s.pollNs(), s.timersPending()));
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
