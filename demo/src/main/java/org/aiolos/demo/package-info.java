/** The TCP echo demo: {@link org.aiolos.demo.EchoServer} on any AioContext, and its DS component. */
@Export
@Version("0.1.0")
package org.aiolos.demo;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
