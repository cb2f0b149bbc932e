/**
 * The io_uring disk-I/O engine (QEMU {@code aio=io_uring}, block/io_uring.c): on the fd
 * monitor's ring when the context's monitor is io_uring (QEMU 10.2's {@code aio_add_sqe}),
 * else on a ring of the engine's own, so it works under any fd monitor.
 */
@Export
@Version("0.2.0")
package org.aiolos.diskio.iouring;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
