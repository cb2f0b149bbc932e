package org.aiolos.bench;

import io.netty.channel.EventLoop;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.BottomHalf;
import org.aiolos.core.AiolosContext;
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
 * A task submitted from another thread into a sleeping event loop, and its answer back:
 * the ping-pong whose physical limit is the C eventfd + epoll_wait program that
 * bench/run.sh measures in the same invocation.
 *
 * <p>What is compared: Aiolos schedules a bottom half from the benchmark thread
 * ({@code BottomHalf.schedule()}, QEMU {@code qemu_bh_schedule}); Netty submits a task
 * ({@code EventLoop.execute}). In both the task is one pre-allocated {@code Runnable} that
 * writes the reply eventfd, and the benchmark thread sleeps in {@code ppoll} on it
 * ({@link Reply}), so the only difference is how each loop is woken and dispatches.
 * The {@code +polling} rows are Aiolos with adaptive polling on (QEMU's 32768 ns): the
 * loop busy-polls its handlers for a while before sleeping, which is Aiolos' answer to
 * this workload; Netty has no such mode. Both settings run in the same invocation.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class CrossThreadWakeBenchmark {
    @Param({"aiolos-poll", "aiolos-epoll", "aiolos-io_uring",
            "aiolos-poll+polling", "aiolos-epoll+polling", "aiolos-io_uring+polling",
            "netty-epoll", "netty-io_uring"})
    public String loop;

    private Reply reply;
    private PeerLoop peer;
    private BottomHalf ping;
    private Runnable submit;

    @Setup(Level.Trial)
    public void setUp() {
        reply = new Reply();
        peer = PeerLoop.open(loop, "bench-wake", reply);
        Runnable answer = reply::set;
        if (peer.netty != null) {
            EventLoop el = peer.netty;
            submit = () -> el.execute(answer);
        } else {
            ping = peer.io.context().newBottomHalf("ping", answer);
            submit = ping::schedule;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (peer.io != null && peer.io.context() instanceof AiolosContext c) {
            // Whether busy polling caught the pings (pollHits) or the loop slept (waits,
            // notifierWrites): the explanation behind the +polling rows.
            System.out.println(loop + " loop counters: " + c.stats());
        }
        if (ping != null) {
            ping.delete();
        }
        peer.close();
        reply.close();
    }

    @Benchmark
    public boolean roundTrip(LoopAllocation alloc) {
        alloc.ops++;
        submit.run();
        return reply.await();
    }
}
