/**
 * The disk-I/O SPI: disk I/O engines (QEMU {@code aio=threads|native|io_uring}). Providers register
 * the factory as an OSGi service with {@code service.ranking}, or through
 * {@link java.util.ServiceLoader}.
 */
@Export
@Version("1.2.0")
package org.aiolos.api.diskio;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
