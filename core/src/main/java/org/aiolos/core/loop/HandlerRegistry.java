package org.aiolos.core.loop;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.aiolos.api.fdmon.FdWatch;

/**
 * The live fd handlers of one context (QEMU {@code aio_handlers} plus the
 * {@code list_lock} mutex), and the table that maps registration ids back to nodes.
 *
 * <p>Registration ids are (slot index &lt;&lt; 32 | generation). A slot is reused after its
 * node retires, with the next generation, so an id a monitor handed to the kernel before
 * the retirement resolves to null afterwards: stale completions are dropped, never
 * delivered to whatever fd now has the same number.
 *
 * <p>Writers (any thread) hold {@link #lock}. The home thread resolves ids without it:
 * slots are published with release stores and read with acquire loads.
 */
final class HandlerRegistry {
    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(HandlerNode[].class);

    final ReentrantLock lock = new ReentrantLock();

    /** Live nodes by fd. Guarded by lock. */
    private final Map<Integer, HandlerNode> byFd = new HashMap<>();
    /** Live nodes, newest last. Guarded by lock. */
    private final List<HandlerNode> live = new ArrayList<>();
    /** Retired nodes the home thread must still unlink from its poll list. Guarded by lock. */
    private final List<HandlerNode> retired = new ArrayList<>();
    private volatile boolean anyRetired;

    private volatile HandlerNode[] slots = new HandlerNode[16];
    /** Generations by slot. Guarded by lock. */
    private int[] generations = new int[16];
    private int[] freeSlots = new int[16];
    private int freeCount;
    private int slotsUsed;

    /** Handlers without a poll callback (QEMU {@code poll_disable_cnt}). */
    private volatile int pollDisableCount;
    private volatile int liveCount;

    /** Finds the live node of {@code fd}. Caller holds lock. */
    HandlerNode find(int fd) {
        return byFd.get(fd);
    }

    /**
     * Creates and publishes a node replacing {@code old} (which may be null). Caller holds
     * lock.
     */
    HandlerNode add(HandlerNode old, int fd, Runnable onReadable, Runnable onWritable,
                    BooleanSupplier poll, Runnable onPollReady, boolean isNotifier) {
        int slot = allocateSlot();
        int generation = ++generations[slot];
        long id = ((long) slot << 32) | (generation & 0xffff_ffffL);
        HandlerNode node = new HandlerNode(fd, id, onReadable, onWritable, poll, onPollReady, isNotifier);
        if (old != null) {
            node.revents = 0;
            node.pollBegin = old.pollBegin;
            node.pollEnd = old.pollEnd;
        }
        int delta = (node.hasPoll() ? 0 : 1) - (old != null && !old.hasPoll() ? 1 : 0);
        pollDisableCount += delta;
        // Release: the node's final fields are visible to a home thread that resolves the id.
        SLOTS.setRelease(slots, slot, node);
        byFd.put(fd, node);
        live.add(node);
        liveCount = live.size();
        return node;
    }

    /** Removes the live node of its fd without a replacement. Caller holds lock. */
    void remove(HandlerNode old) {
        byFd.remove(old.fd);
        if (!old.hasPoll()) {
            pollDisableCount -= 1;
        }
    }

    /**
     * Marks {@code old} deleted and frees its slot; the home thread unlinks it from its
     * poll list later. Caller holds lock.
     */
    void retire(HandlerNode old) {
        old.deleted = true;
        live.remove(old);
        liveCount = live.size();
        int slot = (int) (old.registrationId >>> 32);
        SLOTS.setRelease(slots, slot, (HandlerNode) null);
        if (freeCount == freeSlots.length) {
            freeSlots = java.util.Arrays.copyOf(freeSlots, freeCount * 2);
        }
        freeSlots[freeCount++] = slot;
        retired.add(old);
        anyRetired = true;
    }

    private int allocateSlot() {
        if (freeCount > 0) {
            return freeSlots[--freeCount];
        }
        HandlerNode[] current = slots;
        if (slotsUsed == current.length) {
            HandlerNode[] grown = java.util.Arrays.copyOf(current, current.length * 2);
            generations = java.util.Arrays.copyOf(generations, grown.length);
            slots = grown; // volatile publish of the larger table
        }
        return slotsUsed++;
    }

    /** Resolves a registration id; null when stale or unknown. Any thread, no lock. */
    HandlerNode resolve(long registrationId) {
        int slot = (int) (registrationId >>> 32);
        HandlerNode[] table = slots;
        if (slot < 0 || slot >= table.length) {
            return null;
        }
        HandlerNode node = (HandlerNode) SLOTS.getAcquire(table, slot);
        if (node == null || node.registrationId != registrationId) {
            return null;
        }
        return node;
    }

    /** The node behind a watch a monitor reported, or null if it is not one of ours. */
    HandlerNode nodeOf(FdWatch watch) {
        return watch instanceof HandlerNode node ? node : null;
    }

    boolean pollingDisabled() {
        return pollDisableCount != 0;
    }

    /** Live handlers, read without the lock. */
    int liveCountRacy() {
        return liveCount;
    }

    int liveCount() {
        lock.lock();
        try {
            return live.size();
        } finally {
            lock.unlock();
        }
    }

    /** Visits the live nodes, oldest first. Caller holds lock. */
    void forEachLive(Consumer<HandlerNode> action) {
        for (HandlerNode node : live) {
            action.accept(node);
        }
    }

    /** Live nodes, oldest first; a copy, for the home thread to walk without the lock. */
    List<HandlerNode> snapshot() {
        lock.lock();
        try {
            return new ArrayList<>(live);
        } finally {
            lock.unlock();
        }
    }

    boolean hasRetired() {
        return anyRetired;
    }

    /** Hands the retired nodes to {@code action} and forgets them. Home thread. */
    void drainRetired(Consumer<HandlerNode> action) {
        lock.lock();
        try {
            for (HandlerNode node : retired) {
                action.accept(node);
            }
            retired.clear();
            anyRetired = false;
        } finally {
            lock.unlock();
        }
    }
}
