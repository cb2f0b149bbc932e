/**
 * The {@code threads} disk-I/O engine (QEMU {@code aio=threads}): blocking
 * {@code preadv}/{@code pwritev}/{@code fdatasync} on the context's thread-pool workers.
 */
@Export
@Version("0.1.0")
package org.aiolos.threadpool.diskio;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
