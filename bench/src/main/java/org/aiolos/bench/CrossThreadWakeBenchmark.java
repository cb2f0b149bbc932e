package org.aiolos.bench;

import java.util.concurrent.TimeUnit;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.IOThread;
import org.aiolos.api.PollParams;
import org.aiolos.core.Aiolos;
import org.aiolos.core.ContextOptions;
import org.aiolos.linux.EventFd;
import org.aiolos.linux.PollSet;
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
 * Cross-thread wake round trip: the benchmark thread schedules a bottom half into an
 * IOThread whose loop is blocked in poll(true) (or busy-polling, with adaptive polling
 * on); the bottom half writes a reply eventfd that the benchmark thread waits for in
 * ppoll. Both sides block, as in the C eventfd + epoll_wait ping-pong that
 * bench/run.sh measures beside it.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class CrossThreadWakeBenchmark {
    /** poll-max-ns of the IOThread: 0 = polling off, 32768 = QEMU's IOThread default. */
    @Param({"0", "32768"})
    public long pollMaxNs;

    /** The IOThread's fd monitor. */
    @Param({"poll", "io_uring"})
    public String monitor;

    private IOThread io;
    private BottomHalf ping;
    private EventFd reply;
    private PollSet waitSet;

    @Setup(Level.Trial)
    public void setUp() {
        reply = EventFd.open(false);
        waitSet = new PollSet();
        waitSet.set(0, reply.fd(), org.aiolos.api.FdEvents.IN);
        io = Aiolos.newIOThread(ContextOptions.defaults("bench-wake")
                .withPollParams(new PollParams(pollMaxNs, 0, 0)).withFdMonitor(monitor));
        io.start();
        if (!monitor.equals(io.context().fdMonitorName())) {
            throw new IllegalStateException("wanted " + monitor + ", got " + io.context().fdMonitorName());
        }
        ping = io.context().newBottomHalf("ping", reply::set);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ping.delete();
        io.close();
        waitSet.close();
        reply.close();
    }

    @Benchmark
    public boolean roundTrip() {
        ping.schedule();
        while (waitSet.ppoll(1, -1) <= 0) {
            // EINTR: wait again
        }
        return reply.testAndClear();
    }
}
