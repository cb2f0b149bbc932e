/**
 * Java Flight Recorder events of the NBD server: requests slower than a threshold, per
 * export, and rejected export configurations. They follow core's pattern
 * ({@code org.aiolos.core.jfr}): types made with {@link jdk.jfr.EventFactory}, so they
 * work in any OSGi container, and a static probe asks JFR whether a recording wants the
 * event before anything is allocated. Not exported.
 */
package org.aiolos.nbd.jfr;
