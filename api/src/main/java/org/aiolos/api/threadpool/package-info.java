/**
 * The thread-pool SPI: offloading blocking work to worker threads with completions in the home thread (QEMU {@code ThreadPoolAio}). Providers register
 * the factory as an OSGi service with {@code service.ranking}, or through
 * {@link java.util.ServiceLoader}.
 */
@Export
@Version("0.1.0")
package org.aiolos.api.threadpool;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
