package org.aiolos.fdmon.iouring;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.aiolos.api.FdEvents;
import org.aiolos.api.fdmon.FdMonitorHost;
import org.aiolos.api.fdmon.FdWatch;
import org.aiolos.api.fdmon.ReadyList;

/** A context stand-in: watches with slot/generation ids, and a ready list that records. */
final class FakeHost implements FdMonitorHost, ReadyList {
    static final class Watch implements FdWatch {
        final int fd;
        final int events;
        final long id;
        volatile boolean deleted;

        Watch(int fd, int events, long id) {
            this.fd = fd;
            this.events = events;
            this.id = id;
        }

        @Override
        public int fd() {
            return fd;
        }

        @Override
        public int events() {
            return events;
        }

        @Override
        public long registrationId() {
            return id;
        }

        @Override
        public boolean isDeleted() {
            return deleted;
        }
    }

    private final Map<Long, Watch> live = new HashMap<>();
    private int nextSlot;
    private int generation;
    final List<Watch> reported = new ArrayList<>();
    final List<Integer> revents = new ArrayList<>();
    boolean pollingDisabled = true;

    /** A new watch reading {@code fd}, in a fresh slot unless {@code slot} >= 0. */
    Watch watch(int fd, int slot) {
        int s = slot >= 0 ? slot : nextSlot++;
        Watch w = new Watch(fd, FdEvents.READ, ((long) s << 32) | (++generation & 0xffff_ffffL));
        live.put(w.id, w);
        return w;
    }

    void retire(Watch w) {
        w.deleted = true;
        live.remove(w.id);
    }

    @Override
    public String contextName() {
        return "fake";
    }

    @Override
    public boolean pollingDisabled() {
        return pollingDisabled;
    }

    @Override
    public FdWatch watch(long registrationId) {
        return live.get(registrationId);
    }

    @Override
    public void wakeUp() {
    }

    @Override
    public void add(FdWatch watch, int rev) {
        reported.add((Watch) watch);
        revents.add(rev);
    }

    void clearReported() {
        reported.clear();
        revents.clear();
    }
}
