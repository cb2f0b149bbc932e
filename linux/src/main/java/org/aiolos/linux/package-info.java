/** FFM bindings to Linux: descriptors, poll, epoll, io_uring and Linux AIO. */
@Export
@Version("0.1.0")
package org.aiolos.linux;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
