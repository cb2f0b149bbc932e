package org.aiolos.core.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.aiolos.api.threadpool.ThreadPoolFactory;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleListener;
import org.osgi.framework.Constants;
import org.osgi.framework.SynchronousBundleListener;

/** Once the framework begins to stop no backend will come; a backend bundle that stops alone may have a successor. */
class BackendRegistryTest {
    private final List<BundleListener> listeners = new ArrayList<>();

    private final BundleContext context = proxy(BundleContext.class, (name, args) -> switch (name) {
        case "addBundleListener" -> listeners.add((BundleListener) args[0]);
        case "removeBundleListener" -> listeners.remove((BundleListener) args[0]);
        default -> throw new UnsupportedOperationException(name);
    });

    private final BackendRegistry registry = new BackendRegistry(context);

    private static Bundle bundle(long id) {
        return proxy(Bundle.class, (name, args) -> {
            if (name.equals("getBundleId")) {
                return id;
            }
            throw new UnsupportedOperationException(name);
        });
    }

    private void fire(int type, Bundle b) {
        for (BundleListener l : List.copyOf(listeners)) {
            l.bundleChanged(new BundleEvent(type, b));
        }
    }

    @Test
    void aBackendBundleStoppingInARunningFrameworkLeavesRequestsWaitingForAnother() {
        fire(BundleEvent.STOPPING, bundle(7));
        registry.unbindThreadPool(proxy(ThreadPoolFactory.class, (name, args) -> "pool"));
        assertNull(registry.threadPools().ended());
        assertNull(registry.diskEngines().ended());
        assertNull(registry.fdMonitors().ended());
    }

    @Test
    void theFrameworkBeginningToStopEndsEveryKindsWait() {
        assertTrue(listeners.get(0) instanceof SynchronousBundleListener,
                "heard on the stopping thread, before the first bundle stops");
        fire(BundleEvent.STOPPING, bundle(Constants.SYSTEM_BUNDLE_ID));
        assertEquals("the framework is stopping", registry.threadPools().ended());
        assertEquals("the framework is stopping", registry.diskEngines().ended());
        assertEquals("the framework is stopping", registry.fdMonitors().ended());
    }

    @Test
    void deactivationStopsListening() {
        registry.deactivate();
        assertEquals(List.of(), listeners);
    }

    private interface Answer {
        Object answer(String method, Object[] args);
    }

    private static <T> T proxy(Class<T> type, Answer answer) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (p, m, a) -> {
            if (m.getDeclaringClass() == Object.class) {
                return switch (m.getName()) {
                    case "equals" -> p == a[0];
                    case "hashCode" -> System.identityHashCode(p);
                    default -> type.getSimpleName() + " proxy";
                };
            }
            return answer.answer(m.getName(), a == null ? new Object[0] : a);
        }));
    }
}
