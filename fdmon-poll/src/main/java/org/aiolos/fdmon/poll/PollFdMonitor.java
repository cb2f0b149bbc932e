package org.aiolos.fdmon.poll;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.aiolos.api.PollFd;
import org.aiolos.api.fdmon.FdMonitor;
import org.aiolos.api.fdmon.FdMonitorHost;
import org.aiolos.api.fdmon.FdWatch;
import org.aiolos.api.fdmon.ReadyList;
import org.aiolos.linux.PollSet;

/**
 * Waits with {@code ppoll(2)} (QEMU {@code util/fdmon-poll.c}): nanosecond timeouts,
 * level-triggered, every watched fd passed to the kernel on each wait.
 *
 * <p>Unlike QEMU, which rebuilds its pollfd array on every wait, the native array is
 * rebuilt only after a registration change, so a steady loop allocates nothing and copies
 * nothing. Fds are polled newest registration first; since ready lists are LIFO, the
 * oldest registration is dispatched first, as in QEMU.
 */
public final class PollFdMonitor implements FdMonitor {
    private final FdMonitorHost host;

    /** Registered watches, oldest first. Guarded by this. */
    private FdWatch[] watches = new FdWatch[8];
    private int count;
    /** A registration changed since the native array was built. */
    private volatile boolean dirty = true;
    private volatile boolean externalDirty = true;

    // home thread
    private final PollSet pollSet = new PollSet();
    private FdWatch[] polled = new FdWatch[8];
    private int polledCount;
    private List<PollFd> externalFds = List.of();
    private FdWatch[] externalWatches = new FdWatch[0];
    private boolean closed;

    PollFdMonitor(FdMonitorHost host) {
        this.host = host;
    }

    @Override
    public String name() {
        return "poll";
    }

    @Override
    public synchronized void update(FdWatch oldWatch, FdWatch newWatch) {
        if (oldWatch != null) {
            for (int i = 0; i < count; i++) {
                if (watches[i] == oldWatch) {
                    System.arraycopy(watches, i + 1, watches, i, count - i - 1);
                    watches[--count] = null;
                    break;
                }
            }
        }
        if (newWatch != null) {
            if (count == watches.length) {
                watches = Arrays.copyOf(watches, count * 2);
            }
            watches[count++] = newWatch;
        }
        dirty = true;
        externalDirty = true;
    }

    @Override
    public int wait(ReadyList ready, long timeoutNs) {
        if (dirty) {
            rebuild();
        }
        int n = pollSet.ppoll(polledCount, timeoutNs);
        if (n <= 0) {
            return 0; // timeout, or -EINTR: the loop simply goes round again
        }
        int reported = 0;
        for (int i = 0; i < polledCount && reported < n; i++) {
            int revents = pollSet.revents(i);
            if (revents != 0) {
                ready.add(polled[i], revents);
                reported++;
            }
        }
        return reported;
    }

    private synchronized void rebuild() {
        dirty = false;
        pollSet.ensureCapacity(count);
        if (polled.length < count) {
            polled = new FdWatch[Math.max(count, polled.length * 2)];
        }
        int k = 0;
        for (int i = count - 1; i >= 0; i--) {
            FdWatch w = watches[i];
            if (w.events() != 0) {
                pollSet.set(k, w.fd(), w.events());
                polled[k++] = w;
            }
        }
        Arrays.fill(polled, k, polledCount > k ? polledCount : k, null);
        polledCount = k;
    }

    @Override
    public boolean needWait() {
        return host.pollingDisabled();
    }

    @Override
    public synchronized List<PollFd> externalPollFds() {
        if (externalDirty) {
            externalDirty = false;
            List<PollFd> fds = new ArrayList<>(count);
            FdWatch[] ws = new FdWatch[count];
            int k = 0;
            for (int i = count - 1; i >= 0; i--) {
                FdWatch w = watches[i];
                if (w.events() != 0) {
                    fds.add(new PollFd(w.fd(), w.events()));
                    ws[k++] = w;
                }
            }
            externalFds = List.copyOf(fds);
            externalWatches = Arrays.copyOf(ws, k);
        }
        return externalFds;
    }

    @Override
    public boolean externalCheck() {
        List<PollFd> fds = externalFds;
        for (int i = 0; i < fds.size(); i++) {
            FdWatch w = externalWatches[i];
            if (!w.isDeleted() && (fds.get(i).revents() & w.events()) != 0) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void externalDispatch(ReadyList ready) {
        List<PollFd> fds = externalFds;
        for (int i = 0; i < fds.size(); i++) {
            PollFd pfd = fds.get(i);
            int revents = pfd.revents();
            if (revents != 0) {
                pfd.setRevents(0);
                ready.add(externalWatches[i], revents);
            }
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            pollSet.close();
        }
    }

    @Override
    public String toString() {
        return "poll(2) monitor of '" + host.contextName() + "'";
    }
}
