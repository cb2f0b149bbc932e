/**
 * A context's disk-I/O engine: choosing it from the providers, opening it on first use,
 * and swapping it while requests are in flight.
 */
package org.aiolos.core.diskio;
