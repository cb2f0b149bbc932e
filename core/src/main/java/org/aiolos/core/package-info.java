/** Creating contexts and IOThreads, and choosing their fd monitors. */
@Export
@Version("0.2.0")
package org.aiolos.core;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
