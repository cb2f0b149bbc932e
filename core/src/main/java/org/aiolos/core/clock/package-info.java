/** The clocks timers run on, with a virtual clock that tests can drive. */
@Export
@Version("0.1.0")
package org.aiolos.core.clock;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
