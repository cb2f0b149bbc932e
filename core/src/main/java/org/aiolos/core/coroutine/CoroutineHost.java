package org.aiolos.core.coroutine;

/** A context that can run scheduled coroutines: it owns a {@link CoScheduler}. */
public interface CoroutineHost {

    CoScheduler coroutineScheduler();
}
