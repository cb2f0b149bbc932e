/** The io_uring fd monitor (QEMU {@code util/fdmon-io_uring.c}). */
@Export
@Version("0.1.0")
package org.aiolos.fdmon.iouring;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
