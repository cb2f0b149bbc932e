/**
 * The event-loop API: {@link org.aiolos.api.AioContext} with its bottom halves, timers
 * and fd handlers, and {@link org.aiolos.api.IOThread}.
 */
@Export
@Version("0.6.1")
package org.aiolos.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
