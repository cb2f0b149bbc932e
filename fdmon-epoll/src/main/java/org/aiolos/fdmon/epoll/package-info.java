/** The epoll(7) fd monitor (QEMU {@code util/fdmon-epoll.c}). */
@Export
@Version("0.1.0")
package org.aiolos.fdmon.epoll;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
