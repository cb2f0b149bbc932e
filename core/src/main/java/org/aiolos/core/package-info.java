/** Creating contexts and IOThreads, and choosing their fd monitors. */
@Export
@Version("1.0.0")
package org.aiolos.core;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
