package org.aiolos.launcher;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * Turns a bundle id or symbolic name into a {@link Bundle} for Gogo in scripts, so that
 * {@code stop 10}, {@code stop org.aiolos.linuxaio} and {@code update 10} work there as at the
 * prompt ({@code start} takes ids or URLs, as gogo.command's own does). At the prompt the JLine shell bundle registers this conversion (its
 * {@code Converters}); scripts run without that bundle (it would take the terminal), and
 * gogo.command's bundle commands then fail with "Cannot coerce stop(Token)".
 *
 * <p>Gogo's {@code Converter} interface belongs to the gogo.runtime bundle's class loader,
 * not the launcher's, so this registers a proxy of it.
 */
final class BundleConverter implements InvocationHandler {
    private static final String RUNTIME = "org.apache.felix.gogo.runtime";
    private static final String CONVERTER = "org.apache.felix.service.command.Converter";

    private final BundleContext bc;

    private BundleConverter(BundleContext bc) {
        this.bc = bc;
    }

    /** Registers the conversion, or does nothing when Gogo's runtime is not installed. */
    static ServiceRegistration<?> register(BundleContext bc) throws ClassNotFoundException {
        for (Bundle b : bc.getBundles()) {
            if (RUNTIME.equals(b.getSymbolicName())) {
                Class<?> type = b.loadClass(CONVERTER);
                Object proxy = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                        new BundleConverter(bc));
                return bc.registerService(CONVERTER, proxy, null);
            }
        }
        return null;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) {
        return switch (method.getName()) {
            case "convert" -> args[0] == Bundle.class ? bundle(String.valueOf(args[1])) : null;
            case "equals" -> proxy == args[0];
            case "hashCode" -> System.identityHashCode(proxy);
            case "toString" -> "aiolos script bundle converter";
            default -> null; // format: Gogo's own formatting applies
        };
    }

    /** The bundle with this id, else the first with this symbolic name; null lets Gogo say it cannot coerce. */
    Bundle bundle(String token) {
        try {
            return bc.getBundle(Long.parseLong(token));
        } catch (NumberFormatException notAnId) {
            for (Bundle b : bc.getBundles()) {
                if (token.equals(b.getSymbolicName())) {
                    return b;
                }
            }
            return null;
        }
    }
}
