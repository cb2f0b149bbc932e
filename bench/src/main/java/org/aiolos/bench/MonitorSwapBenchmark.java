package org.aiolos.bench;

import java.util.concurrent.TimeUnit;
import org.aiolos.core.AiolosContext;
import org.aiolos.linux.EventFd;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of a monitor swap, i.e. how long the loop is paused: ask for the next monitor
 * (poll → epoll → io_uring → poll ...) and run the non-blocking poll whose safe point
 * performs the swap (open the new monitor, register every live handler in it, close the
 * old one). {@code pollOnly} is the same poll without a swap, to subtract.
 *
 * <p>Core logs each swap at INFO; the benchmark raises that logger to WARNING so the
 * figure is the swap itself, not the console handler (which roughly doubles it).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class MonitorSwapBenchmark {
    private static final String[] CYCLE = {"poll", "epoll", "io_uring"};
    /** Held strongly: java.util.logging forgets the level of a logger that is collected. */
    private static final java.util.logging.Logger CORE_LOG = java.util.logging.Logger.getLogger("org.aiolos.core");

    @Param({"1", "64", "1024"})
    public int fds;

    private AiolosContext ctx;
    private EventFd[] efds;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        CORE_LOG.setLevel(java.util.logging.Level.WARNING);
        ctx = MonitorContexts.on("poll", "bench-swap");
        efds = new EventFd[fds];
        for (int i = 0; i < fds; i++) {
            EventFd e = EventFd.open(false);
            efds[i] = e;
            ctx.setFdHandler(e.fd(), e::testAndClear, null);
        }
        while (ctx.poll(false)) {
            // settle
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (EventFd e : efds) {
            ctx.removeFdHandler(e.fd());
            e.close();
        }
        ctx.poll(false);
        ctx.close();
    }

    @Benchmark
    public String swap() {
        next = next + 1 == CYCLE.length ? 0 : next + 1;
        ctx.useFdMonitor(CYCLE[next]);
        ctx.poll(false);
        return ctx.fdMonitorName();
    }

    @Benchmark
    public boolean pollOnly() {
        return ctx.poll(false);
    }
}
