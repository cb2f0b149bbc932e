package org.aiolos.core.osgi;

import org.aiolos.api.AioContext;
import org.osgi.framework.BundleContext;
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
 * again.
 */
@Component(service = {}, immediate = true)
public final class DefaultIOThreadComponent {
    static final String NAME = "iothread0";

    @Reference
    BackendRegistry backends;

    private BundleContext bc;
    private int configured;
    private boolean active;
    private IOThreadRunner runner;

    @Activate
    synchronized void activate(BundleContext context) {
        bc = context;
        active = true;
        reconcile();
    }

    @Reference(service = AioContext.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            target = "(" + IOThreadRunner.SOURCE + "=configuration)")
    synchronized void bindConfigured(AioContext ctx) {
        configured++;
        reconcile();
    }

    synchronized void unbindConfigured(AioContext ctx) {
        configured--;
        reconcile();
    }

    @Deactivate
    synchronized void deactivate() {
        active = false;
        reconcile();
    }

    private void reconcile() {
        boolean want = active && configured == 0;
        if (want && runner == null) {
            runner = new IOThreadRunner(bc, IOThreadSettings.defaults(IOThreadComponent.schema(bc), NAME), backends,
                    "default");
        } else if (!want && runner != null) {
            IOThreadRunner r = runner;
            runner = null;
            r.close();
        }
    }
}
