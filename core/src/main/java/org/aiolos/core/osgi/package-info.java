/**
 * The OSGi side of core, as Declarative Services components: backend services (fd monitors,
 * thread pools, disk-I/O engines) feed the provider sets contexts choose from, Config Admin factory configurations become
 * IOThreads (registered as {@link org.aiolos.api.AioContext} services and MBeans), and the
 * Gogo commands of scope {@code aio}. Not exported: nothing outside core calls it, and on a
 * plain module path nothing loads it.
 */
package org.aiolos.core.osgi;
