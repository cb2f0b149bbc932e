/**
 * Java Flight Recorder events of the event loop and its IOThreads: slow loop iterations,
 * rejected IOThread configurations and backend swaps. Each event class says when it is
 * committed and what it costs while no recording wants it (nothing on the loop's hot
 * path: one read of the event type's JFR configuration, no allocation). Not exported: the
 * events are read through JFR ({@code jfr print --categories Aiolos}), not through Java.
 *
 * <p>The pattern every event here follows: the type is made with
 * {@link jdk.jfr.EventFactory} (see {@link org.aiolos.core.jfr.EventDefinition} for why
 * not a {@code jdk.jfr.Event} subclass); a {@code static final} probe event answers
 * {@link jdk.jfr.Event#isEnabled()}, and only when it says yes is an event made, filled
 * and committed. A loop-side probe that times something reuses one event object per
 * context, so timing allocates nothing either. {@link org.aiolos.core.jfr.CoreEvents}
 * registers and unregisters the types with the bundle's life.
 */
package org.aiolos.core.jfr;
