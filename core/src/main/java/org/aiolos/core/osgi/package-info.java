/**
 * The OSGi side of core, as Declarative Services components: fd-monitor services feed a
 * {@link org.aiolos.core.FdMonitorProviders}, Config Admin factory configurations become
 * IOThreads (registered as {@link org.aiolos.api.AioContext} services and MBeans), and the
 * Gogo commands of scope {@code aio}. Not exported: nothing outside core calls it, and on a
 * plain module path nothing loads it.
 */
package org.aiolos.core.osgi;
