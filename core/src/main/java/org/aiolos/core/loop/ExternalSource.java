package org.aiolos.core.loop;

import java.util.List;
import java.util.function.Consumer;
import org.aiolos.api.ExternalLoopSource;
import org.aiolos.api.PollFd;
import org.aiolos.api.fdmon.FdMonitor;

/**
 * A context driven by another event loop, as glib drives QEMU's contexts: QEMU's
 * {@code aio_ctx_prepare}, {@code aio_ctx_check} and {@code aio_ctx_dispatch} in
 * {@code util/async.c}. The outside loop calls {@link #prepare}, polls the returned fds
 * with the returned timeout, then {@link #check} and, if that says so, {@link #dispatch}.
 */
final class ExternalSource implements ExternalLoopSource {
    private final Loop loop;
    private final Handlers handlers;
    private final ContextNotifier notifier;
    /** Checks the calling thread is the home thread (binding it if the context has none). */
    private final Consumer<String> enterHome;

    ExternalSource(Loop loop, Handlers handlers, ContextNotifier notifier, Consumer<String> enterHome) {
        this.loop = loop;
        this.handlers = handlers;
        this.notifier = notifier;
        this.enterHome = enterHome;
    }

    @Override
    public long prepare() {
        enterHome.accept("prepare");
        notifier.openExternalWindow(); // full fence before computing the timeout
        long timeout = loop.computeTimeout(true);
        loop.leavePollingMode(loop.frame(loop.depth()));
        if (loop.depth() == 0) {
            loop.atSafePoint(); // no outer poll on this path: an idle prepare is the safe point
        }
        handlers.monitor().externalPrepare();
        return timeout;
    }

    @Override
    public List<PollFd> pollFds() {
        return handlers.monitor().externalPollFds();
    }

    @Override
    public boolean check() {
        enterHome.accept("check");
        notifier.closeExternalWindow();
        notifier.accept();
        return loop.anyBottomHalfScheduled() || handlers.monitor().externalCheck() || loop.timerExpired();
    }

    @Override
    public boolean dispatch() {
        enterHome.accept("dispatch");
        int d = loop.depth();
        ReadyQueue ready = loop.frame(d);
        loop.enter(d);
        boolean completed = false;
        try {
            FdMonitor mon = handlers.monitor();
            loop.runBottomHalves();
            mon.externalDispatch(ready);
            loop.dispatchMonitor(mon);
            loop.dispatchReady(ready, 0); // block_ns 0: poll times never adjust here
            if (d == 0) {
                loop.freeDeleted();
            }
            completed = true;
        } finally {
            loop.leave(d);
            if (!completed) {
                ready.clear();
            }
        }
        loop.runTimers();
        return true;
    }
}
