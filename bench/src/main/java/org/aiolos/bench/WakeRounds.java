package org.aiolos.bench;

import io.netty.channel.EventLoop;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.aiolos.api.BottomHalf;
import org.aiolos.core.AiolosContext;

/**
 * The cross-thread round trip of {@link CrossThreadWakeBenchmark} as one contender of the
 * alternating rounds (bench/lib/wake_rounds.py): one loop per process, so that each
 * process's CPU time (read by the harness from /proc) belongs to that loop and its
 * benchmark thread alone, and no loop's JIT profile sees another's code.
 *
 * <pre>
 * WakeRounds LOOP          LOOP as in {@link PeerLoop}: aiolos-io_uring+polling, netty-epoll, ...
 * </pre>
 * Prints {@code ready}, then for each line {@code SECONDS} on stdin does round trips for
 * that long (a bottom half or a Netty task that writes the reply eventfd; this thread
 * sleeps in ppoll for it) and prints {@code roundTrips nanoseconds loopBytes}: loopBytes
 * is what the loop thread allocated during the round (0 is the goal). An empty line or
 * end of input ends the process; the loop counters go to stderr.
 */
public final class WakeRounds {
    private WakeRounds() {
    }

    public static void main(String[] args) throws Exception {
        String loop = args[0];
        Reply reply = new Reply();
        PeerLoop peer = PeerLoop.open(loop, "wake-rounds", reply);
        BottomHalf ping = null;
        Runnable submit;
        Runnable answer = reply::set;
        if (peer.netty != null) {
            EventLoop el = peer.netty;
            submit = () -> el.execute(answer);
        } else {
            ping = peer.io.context().newBottomHalf("ping", answer);
            submit = ping::schedule;
        }
        LoopAllocation alloc = new LoopAllocation();
        System.out.println("ready");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        for (String line = in.readLine(); line != null && !line.isBlank(); line = in.readLine()) {
            long ns = (long) (Double.parseDouble(line.trim()) * 1e9);
            alloc.begin();
            long n = 0;
            long t0 = System.nanoTime();
            long end = t0 + ns;
            long now;
            do {
                // 64 round trips between clock reads: the clock costs nothing measurable.
                for (int i = 0; i < 64; i++) {
                    submit.run();
                    reply.await();
                }
                n += 64;
                now = System.nanoTime();
            } while (now < end);
            alloc.end();
            System.out.println(n + " " + (now - t0) + " " + alloc.loopBytes);
            System.out.flush();
        }
        if (peer.io != null && peer.io.context() instanceof AiolosContext c) {
            System.err.println(loop + " loop counters: " + c.stats());
        }
        if (ping != null) {
            ping.delete();
        }
        peer.close();
        reply.close();
    }
}
