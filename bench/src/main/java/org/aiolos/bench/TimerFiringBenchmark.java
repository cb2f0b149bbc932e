package org.aiolos.bench;

import io.netty.channel.EventLoop;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.Clocks;
import org.aiolos.api.TimeScale;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * A scheduled task firing: the benchmark thread arms a {@code delayNs} timer on a
 * sleeping loop and sleeps until its callback has answered. ns/op is the whole cycle
 * (arm, the delay, the loop's wake-up, the callback, the reply); the aux counters give
 * the lateness: {@code lateNs / fired} is the mean time from the deadline to the start of
 * the callback, both read from {@code System.nanoTime()} (Aiolos' REALTIME clock).
 *
 * <p>What is compared: Aiolos arms a REALTIME {@link AioTimer} from the benchmark thread
 * ({@code modNs}, QEMU {@code timer_mod_ns}), which wakes the loop to shorten its sleep;
 * Netty schedules the same pre-allocated {@code Runnable} with
 * {@code EventLoop.schedule(task, delay, NANOSECONDS)} from the same thread, which queues
 * a {@code ScheduledFutureTask} to the loop. The deadline is taken just before each call.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class TimerFiringBenchmark {
    @Param({"aiolos-poll", "aiolos-epoll", "aiolos-io_uring", "netty-epoll", "netty-io_uring"})
    public String loop;

    @Param({"100000", "1000000"})
    public long delayNs;

    /** Summed per iteration; the report divides {@code lateNs} by {@code fired}. */
    @AuxCounters(AuxCounters.Type.EVENTS)
    @State(Scope.Thread)
    public static class Lateness {
        public long lateNs;
        public long fired;
    }

    private Reply reply;
    private PeerLoop peer;
    private AioTimer timer;
    private Clocks clocks;
    private EventLoop nettyLoop;
    private Runnable fire;
    /** The deadline of the armed timer, written before arming, read by the callback. */
    private volatile long deadline;
    /** Written by the callback before it replies. */
    private volatile long lastLateNs;

    @Setup(Level.Trial)
    public void setUp() {
        reply = new Reply();
        fire = () -> {
            lastLateNs = System.nanoTime() - deadline;
            reply.set();
        };
        peer = PeerLoop.open(loop, "bench-timer", reply);
        nettyLoop = peer.netty;
        if (peer.io != null) {
            clocks = peer.io.context().clocks();
            timer = peer.io.context().newTimer(ClockType.REALTIME, TimeScale.NS, fire);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (timer != null) {
            timer.cancel();
        }
        peer.close();
        reply.close();
    }

    @Benchmark
    public boolean armAndFire(Lateness counters, LoopAllocation alloc) {
        alloc.ops++;
        if (timer != null) {
            long d = clocks.nowNs(ClockType.REALTIME) + delayNs;
            deadline = d;
            timer.modNs(d);
        } else {
            deadline = System.nanoTime() + delayNs;
            nettyLoop.schedule(fire, delayNs, TimeUnit.NANOSECONDS);
        }
        boolean r = reply.await();
        counters.lateNs += lastLateNs;
        counters.fired++;
        return r;
    }
}
