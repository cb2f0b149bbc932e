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
 * Same-thread fd dispatch rate: make one of {@code fds} registered eventfds readable (a
 * different one each time), then one blocking poll that finds and dispatches it (the
 * handler reads the eventfd). Covers the monitor's wait, the ready list and the handler,
 * plus the two eventfd syscalls; with 1,024 fds poll(2) passes the whole array each time.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class FdDispatchBenchmark {
    @Param({"poll", "epoll", "io_uring"})
    public String monitor;

    @Param({"1", "64", "1024"})
    public int fds;

    private AiolosContext ctx;
    private EventFd[] efds;
    private int next;
    private long dispatched;

    @Setup(Level.Trial)
    public void setUp() {
        ctx = MonitorContexts.on(monitor, "bench-dispatch");
        efds = new EventFd[fds];
        for (int i = 0; i < fds; i++) {
            EventFd e = EventFd.open(false);
            efds[i] = e;
            ctx.setFdHandler(e.fd(), () -> {
                e.testAndClear();
                dispatched++;
            }, null);
        }
        while (ctx.poll(false)) {
            // settle the registration wake-ups
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
    public long setAndDispatch() {
        EventFd e = efds[next];
        next = next + 1 == efds.length ? 0 : next + 1;
        long before = dispatched;
        e.set();
        while (dispatched == before) {
            ctx.poll(true);
        }
        return dispatched;
    }
}
