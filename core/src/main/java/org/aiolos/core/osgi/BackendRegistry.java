package org.aiolos.core.osgi;

import java.util.Map;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.api.threadpool.ThreadPoolFactory;
import org.aiolos.core.DiskIoEngineProviders;
import org.aiolos.core.FdMonitorProviders;
import org.aiolos.core.BackendProviders;
import org.aiolos.core.ThreadPoolProviders;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.Constants;
import org.osgi.framework.SynchronousBundleListener;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * Mirrors the backend services of the framework (fd monitors, thread pools, disk-I/O
 * engines) into the provider sets every IOThread of this bundle chooses from. A backend
 * bundle that starts is bound at once (greedy) and contexts move to it if it is better;
 * one that stops is unbound and contexts move away at their next safe point (fd
 * monitors), or let requests in flight finish on it while new ones go elsewhere (pools,
 * engines). Unbind removes exactly the unbound service, compared by identity: a
 * replacement SCR bound first stays.
 *
 * <p>A backend that goes while the framework itself stops has no successor: from then on
 * requests held for a provider fail at once ({@link BackendProviders#end}) instead of
 * holding the shutdown for backend-wait-ms, whatever order the bundles stop in.
 */
@Component(service = BackendRegistry.class, immediate = true)
public final class BackendRegistry {
    private final FdMonitorProviders fdMonitors = new FdMonitorProviders();
    private final ThreadPoolProviders threadPools = new ThreadPoolProviders();
    private final DiskIoEngineProviders diskEngines = new DiskIoEngineProviders();
    private final BundleContext context;
    /**
     * Hears the framework begin to stop: the system bundle's STOPPING event comes, on the
     * stopping thread, before the first bundle stops (OSGi Core, {@code Framework.stop}).
     */
    private final SynchronousBundleListener frameworkStop = this::frameworkStopping;

    @Activate
    public BackendRegistry(BundleContext context) {
        this.context = context;
        context.addBundleListener(frameworkStop);
    }

    @Deactivate
    void deactivate() {
        context.removeBundleListener(frameworkStop);
    }

    @Reference(service = FdMonitorFactory.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindFdMonitor(FdMonitorFactory factory, Map<String, Object> props) {
        fdMonitors.add(factory, ranking(props));
    }

    void unbindFdMonitor(FdMonitorFactory factory) {
        fdMonitors.remove(factory);
    }

    /** A ranking change: contexts reconsider their choice, and never see the factory missing. */
    void updatedFdMonitor(FdMonitorFactory factory, Map<String, Object> props) {
        fdMonitors.rerank(factory, ranking(props));
    }

    @Reference(service = ThreadPoolFactory.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindThreadPool(ThreadPoolFactory factory, Map<String, Object> props) {
        threadPools.add(factory, ranking(props));
    }

    void unbindThreadPool(ThreadPoolFactory factory) {
        threadPools.remove(factory);
    }

    void updatedThreadPool(ThreadPoolFactory factory, Map<String, Object> props) {
        threadPools.rerank(factory, ranking(props));
    }

    @Reference(service = DiskIoEngineFactory.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindDiskEngine(DiskIoEngineFactory factory, Map<String, Object> props) {
        diskEngines.add(factory, ranking(props));
    }

    void unbindDiskEngine(DiskIoEngineFactory factory) {
        diskEngines.remove(factory);
    }

    void updatedDiskEngine(DiskIoEngineFactory factory, Map<String, Object> props) {
        diskEngines.rerank(factory, ranking(props));
    }

    public FdMonitorProviders fdMonitors() {
        return fdMonitors;
    }

    public ThreadPoolProviders threadPools() {
        return threadPools;
    }

    public DiskIoEngineProviders diskEngines() {
        return diskEngines;
    }

    private void frameworkStopping(BundleEvent e) {
        if (e.getType() == BundleEvent.STOPPING && e.getBundle().getBundleId() == Constants.SYSTEM_BUNDLE_ID) {
            String why = "the framework is stopping";
            fdMonitors.end(why);
            threadPools.end(why);
            diskEngines.end(why);
        }
    }

    private static int ranking(Map<String, Object> props) {
        return props.get("service.ranking") instanceof Integer i ? i : 0;
    }
}
