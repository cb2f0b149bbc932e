/**
 * The thread-pool SPI: offloading blocking work to worker threads with completions in the home thread (QEMU {@code ThreadPoolAio}). Providers register
 * the factory as an OSGi service with {@code service.ranking}, or through
 * {@link java.util.ServiceLoader}.
 *
 * <p>0.2.0: {@code ThreadPool} gained {@code context()}, {@code submitCo} and
 * {@code checkParams} and a defined {@code close}; {@code ThreadPoolFactory} gained
 * {@code NAME_PROPERTY}.
 */
@Export
@Version("0.4.0")
package org.aiolos.api.threadpool;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
