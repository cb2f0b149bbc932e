/**
 * The worker thread pool (QEMU {@code util/thread-pool.c}, {@code ThreadPoolAio}): blocking
 * work on platform threads started lazily from the context's home thread, completions
 * delivered back there through a bottom half, cancellation of queued work.
 */
@Export
@Version("0.1.0")
package org.aiolos.threadpool;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
