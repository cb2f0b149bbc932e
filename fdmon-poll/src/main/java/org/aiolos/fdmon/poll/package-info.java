/** The poll(2) fd monitor (QEMU {@code util/fdmon-poll.c}). */
@Export
@Version("0.1.0")
package org.aiolos.fdmon.poll;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
