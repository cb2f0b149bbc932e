package org.aiolos.core.osgi;

import java.io.IOException;
import org.aiolos.api.AioContext;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.cm.ConfigurationEvent;
import org.osgi.service.cm.ConfigurationListener;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * Runs one IOThread named {@value #NAME} while no IOThread configuration exists, so a
 * fresh container has a context to work with. It watches the configured IOThreads'
 * context services: the first one stops the default, and deleting the last starts it
 * again. An IOThread configuration that exists but has not been tried yet (a cold start:
 * Config Admin holds it before its component activates) is waited for, so the default
 * does not start only to stop a moment later, bouncing whatever bound to it; one that is
 * refused counts as none.
 */
@Component(service = {}, immediate = true)
public final class DefaultIOThreadComponent {
    static final String NAME = "iothread0";

    @Reference
    BackendRegistry backends;
    @Reference
    RejectedConfigurations outcomes;
    /** Optional: without Config Admin there is no configuration to wait for. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL)
    ConfigurationAdmin cm;

    private final Runnable recheck = this::reconcile;
    private BundleContext bc;
    private int configured;
    private boolean active;
    private IOThreadRunner runner;
    private ServiceRegistration<ConfigurationListener> deletions;

    @Activate
    void activate(BundleContext context) {
        synchronized (this) {
            bc = context;
            active = true;
        }
        outcomes.addTriedListener(recheck);
        // A configuration deleted before it was tried is no longer waited for.
        deletions = context.registerService(ConfigurationListener.class, e -> {
            if (e.getType() == ConfigurationEvent.CM_DELETED && IOThreadComponent.FACTORY_PID.equals(e.getFactoryPid())) {
                reconcile();
            }
        }, null);
        reconcile();
    }

    @Reference(service = AioContext.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            target = "(" + IOThreadRunner.SOURCE + "=configuration)")
    void bindConfigured(AioContext ctx) {
        synchronized (this) {
            configured++;
        }
        reconcile();
    }

    void unbindConfigured(AioContext ctx) {
        synchronized (this) {
            configured--;
        }
        reconcile();
    }

    @Deactivate
    void deactivate() {
        outcomes.removeTriedListener(recheck);
        ServiceRegistration<ConfigurationListener> d = deletions;
        if (d != null) {
            try {
                d.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the bundle is stopping: the framework unregistered it
            }
        }
        synchronized (this) {
            active = false;
        }
        reconcile();
    }

    /** Starts or stops the default. Config Admin is asked outside this object's monitor. */
    private void reconcile() {
        boolean coming = configurationsComing();
        synchronized (this) {
            boolean want = active && configured == 0 && !coming;
            if (want && runner == null) {
                runner = new IOThreadRunner(bc, IOThreadSettings.defaults(IOThreadComponent.schema(bc), NAME),
                        backends, "default");
            } else if (!want && runner != null && (!active || configured > 0)) {
                // Stopped for a configured IOThread that runs, or with the component; never
                // for one still coming, which may yet be refused.
                IOThreadRunner r = runner;
                runner = null;
                r.close();
            }
        }
    }

    /** Whether an IOThread configuration exists that its component has not tried yet. */
    private boolean configurationsComing() {
        ConfigurationAdmin admin = cm;
        if (admin == null) {
            return false;
        }
        try {
            Configuration[] all = admin.listConfigurations("(service.factoryPid=" + IOThreadComponent.FACTORY_PID + ")");
            if (all != null) {
                for (Configuration c : all) {
                    if (!outcomes.wasTried(c.getPid())) {
                        return true;
                    }
                }
            }
            return false;
        } catch (IOException | InvalidSyntaxException | IllegalStateException e) {
            return false; // Config Admin is going: nothing is coming from it
        }
    }
}
