package org.aiolos.testkit;

import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.api.fdmon.FdMonitorFactory;

/**
 * What a contract suite asks of the context implementation it runs on: a context called
 * {@code name}; on {@code fdMonitor} as its only fd-monitor provider when one is given
 * (otherwise on the implementation's built-in monitor); with {@code diskEngine} as its only
 * disk-engine provider when one is given; reporting every callback failure to
 * {@code failures}. The suites depend on the api alone, so the context implementation's own
 * tests run them too; each subclass turns a spec into a context of that implementation.
 */
public record ContextSpec(String name, FdMonitorFactory fdMonitor, DiskIoEngineFactory diskEngine,
        CallbackFailures failures) {
}
