/**
 * Core's built-in poll(2) fd monitor, the fallback of every context; not exported. The
 * monitor class is generated from {@code fdmon-poll}'s source at build time.
 */
package org.aiolos.core.fdmon.builtin;
