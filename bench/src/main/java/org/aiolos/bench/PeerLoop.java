package org.aiolos.bench;

import io.netty.channel.EventLoop;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.IOThread;
import org.aiolos.api.PollParams;
import org.aiolos.core.Aiolos;
import org.aiolos.core.ContextOptions;

/**
 * The event loops compared by the peer benchmarks, named by one JMH parameter:
 *
 * <ul>
 * <li>{@code aiolos-poll}, {@code aiolos-epoll}, {@code aiolos-io_uring}: an Aiolos
 *     IOThread on that fd monitor, adaptive polling off ({@code poll-max-ns} 0), so that
 *     an idle loop sleeps in the kernel exactly like Netty's;</li>
 * <li>the same with {@code +polling}: adaptive polling on at QEMU's IOThread default
 *     ({@code poll-max-ns} 32768);</li>
 * <li>{@code netty-epoll}, {@code netty-io_uring}: a Netty 4.2
 *     {@link MultiThreadIoEventLoopGroup} of one thread with {@link EpollIoHandler} or
 *     {@link IoUringIoHandler}, default settings.</li>
 * </ul>
 *
 * Each is one loop thread that sleeps in the kernel when idle; the benchmark thread is
 * always another thread.
 */
final class PeerLoop implements AutoCloseable {
    /** QEMU's IOThread default for poll-max-ns, used by the {@code +polling} variants. */
    static final long QEMU_POLL_MAX_NS = 32768;

    /** The Aiolos IOThread, or null for a Netty loop. */
    final IOThread io;
    /** The Netty group of one loop, or null for Aiolos. */
    final MultiThreadIoEventLoopGroup group;
    /** The Netty loop, or null for Aiolos. */
    final EventLoop netty;

    private PeerLoop(IOThread io, MultiThreadIoEventLoopGroup group) {
        this.io = io;
        this.group = group;
        this.netty = group == null ? null : group.next();
    }

    /**
     * Starts the loop named {@code loop}, runs one task on it to learn its thread for
     * {@link LoopAllocation}, and returns once that task has answered on {@code reply}.
     */
    static PeerLoop open(String loop, String name, Reply reply) {
        PeerLoop p = isNetty(loop) ? new PeerLoop(null, netty(loop)) : new PeerLoop(aiolos(loop, name), null);
        Runnable whoami = () -> {
            LoopAllocation.watch(Thread.currentThread().threadId());
            reply.set();
        };
        if (p.netty != null) {
            p.netty.execute(whoami);
        } else {
            p.io.context().scheduleOneshot("whoami", whoami);
        }
        reply.await();
        return p;
    }

    @Override
    public void close() {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        } else {
            io.close();
        }
    }

    static boolean isNetty(String loop) {
        return loop.startsWith("netty-");
    }

    /** An started Aiolos IOThread for {@code aiolos-<monitor>[+polling]}; fails if the monitor is not the one asked for. */
    static IOThread aiolos(String loop, String name) {
        if (!loop.startsWith("aiolos-")) {
            throw new IllegalArgumentException("not an Aiolos loop: " + loop);
        }
        boolean polling = loop.endsWith("+polling");
        String monitor = loop.substring("aiolos-".length(), polling ? loop.length() - "+polling".length() : loop.length());
        IOThread io = Aiolos.newIOThread(ContextOptions.defaults(name)
                .withPollParams(new PollParams(polling ? QEMU_POLL_MAX_NS : 0, 0, 0))
                .withFdMonitors(MonitorContexts.allMonitors()).withFdMonitor(monitor));
        io.start();
        if (!monitor.equals(io.context().fdMonitorName())) {
            String got = String.valueOf(io.context().fdMonitorName());
            io.close();
            throw new IllegalStateException("wanted " + monitor + ", got " + got);
        }
        return io;
    }

    /** A one-thread Netty 4.2 group for {@code netty-epoll} or {@code netty-io_uring}; fails with the cause if the transport cannot load here. */
    static MultiThreadIoEventLoopGroup netty(String loop) {
        return new MultiThreadIoEventLoopGroup(1, nettyHandler(loop));
    }

    private static IoHandlerFactory nettyHandler(String loop) {
        switch (loop) {
            case "netty-epoll" -> {
                Epoll.ensureAvailability();
                return EpollIoHandler.newFactory();
            }
            case "netty-io_uring" -> {
                IoUring.ensureAvailability();
                return IoUringIoHandler.newFactory();
            }
            default -> throw new IllegalArgumentException("not a Netty loop: " + loop);
        }
    }

    /** The server socket channel class of the Netty transport of {@code loop}. */
    static Class<? extends ServerChannel> nettyServerChannel(String loop) {
        return loop.equals("netty-epoll") ? EpollServerSocketChannel.class : IoUringServerSocketChannel.class;
    }

}
