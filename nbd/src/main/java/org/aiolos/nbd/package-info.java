/**
 * The NBD export server (QEMU {@code nbd/server.c}, {@code qemu-nbd}): {@link
 * org.aiolos.nbd.NbdServer} listens on a TCP address, serves {@link
 * org.aiolos.nbd.ExportSpec exports} of regular files on an AioContext, and reports
 * {@link org.aiolos.nbd.ExportStats statistics}; {@link org.aiolos.nbd.NbdMain} runs one
 * standalone.
 *
 * <p>0.3.0: {@link org.aiolos.nbd.TlsSettings} and the {@code NbdServer.start} overload
 * that takes it (NBD over TLS, client certificates); {@code NbdServer.startUnix} and
 * {@code socketPath} (Unix domain socket listeners).
 *
 * <p>0.5.0: {@link org.aiolos.nbd.ExportSpec#allowedClients()} (client certificates per
 * export), {@code ExportSpec.withAllowedClients} and {@code ExportSpec.admits}; the
 * six-argument constructor stays.
 *
 * <p>0.6.0: {@link org.aiolos.nbd.TlsSettings} refuses credentials with {@code Mode.OFF}
 * (they used to be dropped, serving plaintext), and its listener-wide allow-list makes TLS
 * required even with {@code Mode.ON}.
 */
@Export
@Version("0.7.0")
package org.aiolos.nbd;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
