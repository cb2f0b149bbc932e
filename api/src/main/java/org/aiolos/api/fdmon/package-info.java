/**
 * The fd-monitor SPI (QEMU {@code FDMonOps}): how a context waits for its descriptors.
 * Providers register a {@link org.aiolos.api.fdmon.FdMonitorFactory} as an OSGi service
 * with the {@code fdmon.name} and {@code service.ranking} properties, or through
 * {@link java.util.ServiceLoader}.
 */
@Export
@Version("0.4.0")
package org.aiolos.api.fdmon;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
