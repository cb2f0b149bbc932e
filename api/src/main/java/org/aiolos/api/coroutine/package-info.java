/**
 * Coroutines with QEMU's semantics (include/qemu/coroutine.h): stackful, entered
 * synchronously on the caller's thread, yielding back to whoever entered them, woken
 * across contexts through {@link org.aiolos.api.AioContext#coSchedule}, and the
 * coroutine locks {@link org.aiolos.api.coroutine.CoMutex},
 * {@link org.aiolos.api.coroutine.CoQueue}, {@link org.aiolos.api.coroutine.CoRwLock} and
 * {@link org.aiolos.api.coroutine.CoSleep}.
 *
 * <p>Everything is reached through {@link org.aiolos.api.coroutine.Coroutines}, so a
 * bundle that depends only on the API can create and run coroutines; the implementation
 * lives in {@code org.aiolos.core}, which installs it (see
 * {@link org.aiolos.api.coroutine.Coroutines#install}).
 *
 * <p>0.2.0: {@code Coroutines.ensureCanYield} and {@code CoroutineRuntime.ensureCanYield}
 * (a default method), so an operation can refuse a pinned coroutine before it changes
 * anything.
 */
@Export
@Version("0.2.0")
package org.aiolos.api.coroutine;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
