/**
 * Java Flight Recorder events of the event loop and its IOThreads: slow loop iterations,
 * rejected IOThread configurations and backend swaps. Each event class says when it is
 * committed and what it costs while no recording wants it (nothing on the loop's hot
 * path: one static read, no allocation). Not exported: the events are read through JFR
 * ({@code jfr print --categories Aiolos}), not through Java.
 *
 * <p>The pattern every event here follows: a {@code private static final} probe instance
 * answers {@link jdk.jfr.Event#isEnabled()} (a read of the class' JFR configuration), and
 * only when it says yes is an event filled and committed. A loop-side probe that times
 * something reuses one event object per context, so timing allocates nothing either.
 */
package org.aiolos.core.jfr;
