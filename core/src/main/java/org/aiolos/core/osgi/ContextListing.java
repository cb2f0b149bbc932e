package org.aiolos.core.osgi;

import java.util.Collection;
import org.aiolos.api.coroutine.Coroutines;
import org.aiolos.core.AiolosContext;
import org.aiolos.api.BackendStatus;
import org.aiolos.api.ContextStats;

/** Formats {@code aio:contexts}: one block per context, its backends and live counters. */
final class ContextListing {
    private ContextListing() {
    }

    static String render(Collection<ContextEntry> contexts) {
        if (contexts.isEmpty()) {
            return "no contexts";
        }
        StringBuilder out = new StringBuilder();
        for (ContextEntry e : contexts) {
            AiolosContext ctx = e.context();
            ContextStats s = ctx.stats();
            out.append(e.name()).append("  thread=").append(e.prop(IOThreadRunner.THREAD, "-"))
                    .append("  source=").append(e.prop(IOThreadRunner.SOURCE, "-")).append('\n');
            for (BackendStatus b : ctx.backends()) {
                out.append("  ").append(b.kind()).append('=').append(b.describe());
                if (b.user() != null) {
                    out.append(" for ").append(b.user()); // not the context's own: an export's engine
                }
                if (b.kind().equals("thread-pool")) {
                    out.append(" min ").append(ctx.threadPoolMin()).append(", max ").append(ctx.threadPoolMax());
                }
                out.append('\n');
                if (b.note() != null) {
                    out.append("    note: ").append(b.note()).append('\n');
                }
            }
            out.append("  iterations=").append(s.iterations())
                    .append(" bhs-run=").append(s.bottomHalvesRun())
                    .append(" fds-dispatched=").append(s.fdsDispatched())
                    .append(" poll-hits=").append(s.pollHits())
                    .append(" poll-misses=").append(s.pollMisses())
                    .append(" poll-ns=").append(s.pollNs()).append('/').append(ctx.pollParams().maxNs())
                    .append(" timers-pending=").append(s.timersPending())
                    .append(" handlers=").append(s.handlers())
                    .append(" swaps=").append(s.monitorSwaps())
                    .append('\n');
            out.append("  coroutines=").append(s.coroutinesScheduled()).append(" scheduled (backend ")
                    .append(Coroutines.backend()).append(')')
                    .append(" pool-threads=").append(ctx.threadPool().threadCount())
                    .append(" pool-in-flight=").append(ctx.threadPool().inFlight())
                    .append(" disk-in-flight=").append(ctx.diskIo().inFlight())
                    .append('\n');
            String rejected = e.prop(IOThreadRunner.REJECTED, null);
            if (rejected != null) {
                out.append("  last update ").append(rejected).append('\n');
            }
        }
        return out.toString().stripTrailing();
    }
}
