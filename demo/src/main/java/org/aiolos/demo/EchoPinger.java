package org.aiolos.demo;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.linux.Fds;
import org.aiolos.linux.Sockets;

/**
 * A client of the echo server on the same context: a timer sends a line every
 * {@code periodMs}, a handler reads the echoes back and counts them. It keeps the loop
 * visibly busy (timers, fd dispatches) in {@code aio:top}.
 */
public final class EchoPinger implements AutoCloseable {
    private static final byte[] LINE = "ping\n".getBytes(StandardCharsets.US_ASCII);

    private final AioContext ctx;
    private final int fd;
    private final long periodMs;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment out = arena.allocate(LINE.length);
    private final MemorySegment in = arena.allocate(4096);
    private final AioTimer timer;

    public EchoPinger(AioContext ctx, int port, long periodMs) {
        this.ctx = ctx;
        this.periodMs = periodMs;
        this.fd = Sockets.connectTcp("127.0.0.1", port);
        Sockets.setNoDelay(fd);
        MemorySegment.copy(MemorySegment.ofArray(LINE), 0, out, 0, LINE.length);
        ctx.setFdHandler(fd, this::onReadable, null);
        timer = ctx.newTimer(ClockType.REALTIME, TimeScale.MS, this::tick);
        timer.mod(ctx.clocks().now(ClockType.REALTIME, TimeScale.MS) + periodMs);
    }

    private void tick() {
        Fds.write(fd, out, LINE.length); // a full socket buffer (-EAGAIN) skips a beat; the demo does not queue
        timer.mod(ctx.clocks().now(ClockType.REALTIME, TimeScale.MS) + periodMs);
    }

    /** Drains the echoes (their content does not matter); at end of stream, stops listening. */
    private void onReadable() {
        if (Fds.read(fd, in, in.byteSize()) == 0) {
            ctx.removeFdHandler(fd); // the server went away; -EAGAIN/-EINTR just mean "not yet"
        }
    }

    /** Stops the timer and closes the socket in the home thread. */
    @Override
    public void close() {
        CountDownLatch done = new CountDownLatch(1);
        Runnable teardown = () -> {
            timer.cancel();
            ctx.removeFdHandler(fd);
            Fds.close(fd);
            done.countDown();
        };
        if (ctx.inHomeThread()) {
            teardown.run();
        } else {
            ctx.scheduleOneshot("echo-pinger-close", teardown);
        }
        try {
            // A loop that runs answers within milliseconds; the bound only keeps a stuck loop
            // from holding the caller (a component deactivation) for ever.
            if (!done.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("echo pinger: the context's loop did not run the teardown within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        arena.close();
    }
}
