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
 * Cross-thread wake-up latency: the loop thread sleeps in a blocking poll with
 * {@code fds} registered eventfds (one hot, the rest idle); the benchmark thread makes the
 * hot one readable and spins until its handler has run. One operation is the full round
 * trip: eventfd write, kernel wake-up of the monitor's wait, dispatch, and the volatile
 * store the benchmark thread sees.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class WakeUpLatencyBenchmark {
    @Param({"poll", "epoll", "io_uring"})
    public String monitor;

    @Param({"1", "64", "1024"})
    public int fds;

    private AiolosContext ctx;
    private EventFd[] efds;
    private Thread loop;
    private volatile boolean running;
    private volatile long handled;
    private long sent;

    @Setup(Level.Trial)
    public void setUp() {
        ctx = MonitorContexts.on(monitor, "bench-wakeup");
        efds = new EventFd[fds];
        for (int i = 0; i < fds; i++) {
            EventFd e = EventFd.open(false);
            efds[i] = e;
            ctx.setFdHandler(e.fd(), () -> {
                e.testAndClear();
                handled = handled + 1; // single writer: the loop thread
            }, null);
        }
        running = true;
        loop = new Thread(() -> {
            while (running) {
                ctx.poll(true);
            }
        }, "bench-loop");
        loop.start();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        running = false;
        ctx.wakeUp();
        loop.join();
        for (EventFd e : efds) {
            ctx.removeFdHandler(e.fd());
            e.close();
        }
        ctx.close();
    }

    @Benchmark
    public long roundTrip() {
        long want = ++sent;
        efds[0].set();
        while (handled < want) {
            Thread.onSpinWait();
        }
        return want;
    }
}
