/** The Linux AIO disk-I/O engine (QEMU {@code aio=native}, block/linux-aio.c). */
@Export
@Version("0.1.0")
package org.aiolos.linuxaio;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
