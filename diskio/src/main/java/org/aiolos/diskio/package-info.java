/**
 * What the three disk-I/O engines ({@code threads}, {@code native}, {@code io_uring})
 * share, so that they validate requests and treat short transfers, end of file and
 * retryable errors identically (the result rules of
 * {@link org.aiolos.api.diskio.DiskIoEngine}): {@link org.aiolos.diskio.DiskRequest},
 * a reusable request with its native iovec array, and
 * {@link org.aiolos.diskio.DiskRequestPool}, the fixed set of them an engine owns, and
 * {@link org.aiolos.diskio.DiskEngineBase}, the admission front end every engine extends.
 */
@Export
@Version("0.2.0")
package org.aiolos.diskio;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
