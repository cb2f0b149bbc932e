package org.aiolos.fdmon.epoll;

import java.util.BitSet;
import java.util.List;
import org.aiolos.api.FdEvents;
import org.aiolos.api.PollFd;
import org.aiolos.api.fdmon.FdMonitor;
import org.aiolos.api.fdmon.FdMonitorHost;
import org.aiolos.api.fdmon.FdWatch;
import org.aiolos.api.fdmon.ReadyList;
import org.aiolos.linux.Epoll;
import org.aiolos.linux.EpollEventArray;
import org.aiolos.linux.Errno;
import org.aiolos.linux.Fds;
import org.aiolos.linux.PollSet;
import org.aiolos.linux.SyscallException;

/**
 * Waits with {@code epoll(7)} (QEMU {@code util/fdmon-epoll.c}): level-triggered, up to
 * {@value #MAX_EVENTS} events a wait, each registration change mirrored by one
 * {@code epoll_ctl} (add → ADD, replace → MOD, delete → DEL).
 *
 * <p>The kernel's user data is the watch's registration id, resolved through
 * {@link FdMonitorHost#watch(long)} when an event arrives, so an event for a handler that
 * was replaced or removed in the meantime is dropped rather than delivered to whatever now
 * owns the fd number.
 *
 * <p>Nanosecond timeouts: {@code epoll_wait} only takes milliseconds, so a positive
 * timeout first waits in {@code ppoll} on the epoll descriptor itself (which is readable
 * while events are queued) and then collects with a zero-timeout {@code epoll_wait}.
 *
 * <p>Failure: an {@code epoll_ctl} error the kernel would not give for a correct call (e.g.
 * EPERM for a regular file, which epoll cannot watch) makes {@link #failure()} non-null;
 * the context then moves every watch to poll(2) and never picks epoll again, as QEMU
 * does. One deliberate deviation from QEMU: removing (or replacing) the watch of an fd the
 * application already closed fails with EBADF or ENOENT because the kernel dropped the
 * entry at close; the goal of the call is reached, so that is treated as success, and a
 * replacement then ADDs the new registration. QEMU would give up on epoll there.
 */
final class EpollFdMonitor implements FdMonitor {
    /** QEMU's per-wait event count. */
    static final int MAX_EVENTS = 128;

    private final FdMonitorHost host;
    private final int epfd;
    /** Fds currently in the epoll set; watches with no events stay out (as poll(2) skips them). Guarded by this. */
    private final BitSet inKernel = new BitSet();
    private volatile String failure;

    // home thread
    private final EpollEventArray events = new EpollEventArray(MAX_EVENTS);
    private final PollSet epfdPoll = new PollSet();
    private final PollFd externalFd;
    private final List<PollFd> externalFds;
    private boolean closed;

    EpollFdMonitor(FdMonitorHost host) {
        this.host = host;
        try {
            this.epfd = Epoll.create();
        } catch (RuntimeException e) {
            events.close(); // native memory is not garbage-collected: give it back now
            epfdPoll.close();
            throw e;
        }
        epfdPoll.ensureCapacity(1);
        epfdPoll.set(0, epfd, FdEvents.IN);
        externalFd = new PollFd(epfd, FdEvents.IN);
        externalFds = List.of(externalFd);
    }

    @Override
    public String name() {
        return "epoll";
    }

    @Override
    public synchronized void update(FdWatch oldWatch, FdWatch newWatch) {
        if (failure != null || closed) {
            return; // already handed over to poll(2): the context re-registers everything there
        }
        try {
            if (oldWatch != null && (newWatch == null || newWatch.fd() != oldWatch.fd())) {
                remove(oldWatch.fd());
            }
            if (newWatch != null) {
                put(newWatch); // a replacement on the same fd is a MOD
            }
        } catch (SyscallException e) {
            failure = e.getMessage();
        }
    }

    /** ADD or MOD {@code w}; replacing a watch keeps the fd, so the old one needs no DEL. */
    private void put(FdWatch w) {
        int fd = w.fd();
        int ev = Epoll.fromPollBits(w.events());
        if (ev == 0) {
            remove(fd); // nothing to watch: out of the set, as poll(2) leaves it out of its array
            return;
        }
        if (inKernel.get(fd)) {
            try {
                Epoll.ctl(epfd, Epoll.EPOLL_CTL_MOD, fd, ev, w.registrationId());
                return;
            } catch (SyscallException e) {
                if (e.errno() != Errno.ENOENT) {
                    throw e;
                }
                // The fd was closed (the kernel dropped its entry) and the number reused: ADD.
            }
        }
        try {
            Epoll.ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, ev, w.registrationId());
        } catch (SyscallException e) {
            if (e.errno() != Errno.EEXIST) {
                throw e;
            }
            // A dup of a closed fd kept the old entry alive under this number: take it over.
            Epoll.ctl(epfd, Epoll.EPOLL_CTL_MOD, fd, ev, w.registrationId());
        }
        inKernel.set(fd);
    }

    private void remove(int fd) {
        if (!inKernel.get(fd)) {
            return;
        }
        inKernel.clear(fd);
        try {
            Epoll.ctl(epfd, Epoll.EPOLL_CTL_DEL, fd, 0, 0);
        } catch (SyscallException e) {
            // Closed before its handler was removed: the kernel already dropped the entry.
            if (e.errno() != Errno.EBADF && e.errno() != Errno.ENOENT) {
                throw e;
            }
        }
    }

    @Override
    public int wait(ReadyList ready, long timeoutNs) {
        int timeoutMs = timeoutNs == 0 ? 0 : -1;
        if (timeoutNs > 0) {
            // ns precision: block in ppoll on the epoll fd, then collect without blocking.
            int r = epfdPoll.ppoll(1, timeoutNs);
            if (r <= 0) {
                return 0; // timed out, or EINTR: the loop goes round again
            }
            timeoutMs = 0;
        }
        int n = events.wait(epfd, timeoutMs);
        return n <= 0 ? 0 : report(ready, n);
    }

    private int report(ReadyList ready, int n) {
        int reported = 0;
        for (int i = 0; i < n; i++) {
            FdWatch w = host.watch(events.data(i));
            if (w != null) { // null: the handler went away after the kernel queued the event
                ready.add(w, Epoll.toPollBits(events.events(i)));
                reported++;
            }
        }
        return reported;
    }

    @Override
    public boolean needWait() {
        return host.pollingDisabled();
    }

    @Override
    public boolean ownsDescriptor(int fd) {
        return fd == epfd;
    }

    @Override
    public List<PollFd> externalPollFds() {
        return externalFds;
    }

    @Override
    public boolean externalCheck() {
        return (externalFd.revents() & FdEvents.IN) != 0;
    }

    @Override
    public void externalDispatch(ReadyList ready) {
        externalFd.setRevents(0);
        wait(ready, 0);
    }

    @Override
    public String failure() {
        return failure;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            inKernel.clear();
            events.close();
            epfdPoll.close();
            Fds.close(epfd);
        }
    }

    @Override
    public String toString() {
        return "epoll monitor of '" + host.contextName() + "' (epfd " + epfd + ")";
    }
}
