/**
 * The OSGi side of the NBD server, as Declarative Services components: Config Admin
 * factory configurations ({@code org.aiolos.nbd.export}, described by Metatype) become
 * exports served on IOThreads' {@link org.aiolos.api.AioContext} services, and the Gogo
 * commands of scope {@code nbd} list, create, update and close them. Not exported: nothing
 * outside the bundle calls it, and on a plain module path nothing loads it.
 */
package org.aiolos.nbd.osgi;
