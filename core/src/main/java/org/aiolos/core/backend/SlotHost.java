package org.aiolos.core.backend;

import org.aiolos.api.AioContext;

/** What a {@link BackendSlot} needs from the context it belongs to. */
public interface SlotHost {

    /** The context whose home thread runs the slot's safe points and completions. */
    AioContext context();

    /**
     * A slot has something to do at the next safe point (a provider changed, a backend
     * drains, work waits for a backend). Any thread; wakes a blocked loop.
     */
    void attention();

    /** Reports a failure of a backend or a completion without stopping the loop. */
    void report(Object source, Throwable failure);

    /**
     * How long work submitted while no provider of its kind is available waits for one
     * before it fails, in ns (the context's {@code backend-wait-ms}).
     */
    long backendWaitNs();

    /** The context's home thread, or null before it has one. */
    Thread homeThread();
}
