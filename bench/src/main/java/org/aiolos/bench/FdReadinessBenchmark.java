package org.aiolos.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.aiolos.linux.Fds;
import org.aiolos.linux.Sockets;
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
 * Fd readiness dispatch: the benchmark thread writes one byte into a loopback TCP
 * connection whose server end belongs to a sleeping event loop; the loop wakes on its
 * readiness, its read handler reads the byte and answers through the {@link Reply}
 * eventfd the benchmark thread sleeps on.
 *
 * <p>What is compared: Aiolos registers the accepted socket with
 * {@code AioContext.setFdHandler} and its handler does one {@code read(2)} into a
 * pre-allocated buffer. Netty accepts the same kind of connection with its own server
 * channel ({@code EpollServerSocketChannel} / {@code IoUringServerSocketChannel}) and
 * the child channel's {@code ChannelInboundHandler.channelRead} gets the byte in a
 * pooled {@code ByteBuf}, releases it and answers. That is each library's ordinary way
 * to be told "this socket is readable, here is the data"; Netty's includes its pipeline
 * and buffer pool, Aiolos' a bare handler, and that difference is part of what is
 * measured. The writing side (a blocking-free {@code write(2)} of one byte on a
 * TCP_NODELAY socket) and the reply are identical for all.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class FdReadinessBenchmark {
    @Param({"aiolos-poll", "aiolos-epoll", "aiolos-io_uring", "netty-epoll", "netty-io_uring"})
    public String loop;

    private Reply reply;
    private Arena arena;
    private MemorySegment oneByte;
    private int client = -1;
    private int server = -1;
    private PeerLoop peer;
    private Channel serverChannel;

    @Setup(Level.Trial)
    public void setUp() throws InterruptedException {
        reply = new Reply();
        arena = Arena.ofShared();
        oneByte = arena.allocate(1);
        oneByte.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        peer = PeerLoop.open(loop, "bench-fd", reply);
        if (peer.netty != null) {
            CountDownLatch accepted = new CountDownLatch(1);
            serverChannel = new ServerBootstrap().group(peer.group).channel(PeerLoop.nettyServerChannel(loop))
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelActive(ChannelHandlerContext ctx) {
                            accepted.countDown();
                        }

                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ReferenceCountUtil.release(msg);
                            reply.set();
                        }
                    })
                    .bind("127.0.0.1", 0).syncUninterruptibly().channel();
            client = Sockets.connectTcp("127.0.0.1", ((InetSocketAddress) serverChannel.localAddress()).getPort());
            if (!accepted.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("Netty did not accept the connection");
            }
        } else {
            int listen = Sockets.listenTcp("127.0.0.1", 0, 1);
            try {
                client = Sockets.connectTcp("127.0.0.1", Sockets.localPort(listen));
                while ((server = Sockets.accept(listen)) < 0) {
                    Thread.onSpinWait();
                }
            } finally {
                Fds.close(listen);
            }
            MemorySegment buf = arena.allocate(64);
            int fd = server;
            peer.io.context().setFdHandler(fd, () -> {
                Fds.read(fd, buf, buf.byteSize());
                reply.set();
            }, null);
        }
        Sockets.setNoDelay(client);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        } else {
            peer.io.context().removeFdHandler(server);
        }
        peer.close();
        if (server >= 0) {
            Fds.close(server);
        }
        Fds.close(client);
        reply.close();
        arena.close();
    }

    @Benchmark
    public boolean writeAndDispatch(LoopAllocation alloc) {
        alloc.ops++;
        if (Fds.write(client, oneByte, 1) != 1) {
            throw new IllegalStateException("short write on the loopback socket");
        }
        return reply.await();
    }
}
