package org.aiolos.testkit;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.aiolos.api.FdEvents;
import org.aiolos.api.fdmon.FdMonitorHost;
import org.aiolos.api.fdmon.FdWatch;
import org.aiolos.api.fdmon.ReadyList;

/**
 * A context stand-in for testing an fd monitor without a loop: watches with slot/generation
 * ids, and a ready list that records. The monitor modules test their monitors on it in their
 * own tests ({@link FdMonitorContract} runs them inside a real context instead).
 */
public final class FakeHost implements FdMonitorHost, ReadyList {
    public static final class Watch implements FdWatch {
        public final int fd;
        public final int events;
        public final long id;
        public volatile boolean deleted;

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
    public final List<Watch> reported = new ArrayList<>();
    public final List<Integer> revents = new ArrayList<>();
    public boolean pollingDisabled = true;

    /** A new watch reading {@code fd}, in a fresh slot unless {@code slot} >= 0. */
    public Watch watch(int fd, int slot) {
        int s = slot >= 0 ? slot : nextSlot++;
        Watch w = new Watch(fd, FdEvents.READ, ((long) s << 32) | (++generation & 0xffff_ffffL));
        live.put(w.id, w);
        return w;
    }

    public void retire(Watch w) {
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

    public void clearReported() {
        reported.clear();
        revents.clear();
    }
}
