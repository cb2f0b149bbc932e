/**
 * The io_uring disk-I/O engine (QEMU {@code aio=io_uring}, block/io_uring.c): a ring of
 * the engine's own per context, so it works under any fd monitor.
 */
@Export
@Version("0.2.0")
package org.aiolos.fdmon.iouring.diskio;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
