package org.aiolos.core.loop;

import org.aiolos.api.fdmon.FdWatch;
import org.aiolos.api.fdmon.ReadyList;

/**
 * The ready list of one (possibly nested) poll. Intrusive, so it allocates nothing.
 * Adding a node first takes it off any other poll's list: a nested poll that sees the
 * same fd steals it, and the outer poll will not dispatch it again. Insertion is at the
 * head, so dispatch order is the reverse of discovery order, as in QEMU.
 */
final class ReadyQueue implements ReadyList {
    private final HandlerRegistry registry;
    HandlerNode head;
    /** Scratch timeout of the poll that owns this queue (try_poll_mode's in/out parameter). */
    long timeout;

    ReadyQueue(HandlerRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void add(FdWatch watch, int revents) {
        HandlerNode node = registry.nodeOf(watch);
        if (node == null) {
            return;
        }
        node.revents = revents;
        insert(node);
    }

    void addPollReady(HandlerNode node) {
        node.pollReady = true;
        insert(node);
    }

    private void insert(HandlerNode node) {
        if (node.readyOwner != null) {
            node.readyOwner.unlink(node);
        }
        node.readyOwner = this;
        node.readyPrev = null;
        node.readyNext = head;
        if (head != null) {
            head.readyPrev = node;
        }
        head = node;
    }

    private void unlink(HandlerNode node) {
        if (node.readyPrev != null) {
            node.readyPrev.readyNext = node.readyNext;
        } else {
            head = node.readyNext;
        }
        if (node.readyNext != null) {
            node.readyNext.readyPrev = node.readyPrev;
        }
        node.readyOwner = null;
        node.readyPrev = null;
        node.readyNext = null;
    }

    /** Pops the head, or null when empty. */
    HandlerNode poll() {
        HandlerNode node = head;
        if (node != null) {
            unlink(node);
        }
        return node;
    }

    boolean isEmpty() {
        return head == null;
    }

    /** Drops every entry (used when a poll unwinds after a callback threw). */
    void clear() {
        while (poll() != null) {
            // unlinking is the point
        }
    }
}
