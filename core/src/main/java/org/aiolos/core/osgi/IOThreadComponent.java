package org.aiolos.core.osgi;

import java.util.Map;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

/**
 * One IOThread per Config Admin factory configuration of {@value #FACTORY_PID}. Creating a
 * configuration starts an IOThread; updating it applies the new settings to the running
 * loop (or rejects them whole, naming the field); deleting it stops the thread.
 */
@Component(configurationPid = IOThreadComponent.FACTORY_PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {}, immediate = true)
@Designate(ocd = IOThreadConfig.class, factory = true)
public final class IOThreadComponent {
    public static final String FACTORY_PID = "org.aiolos.iothread";

    @Reference
    BackendRegistry backends;

    private IOThreadRunner runner;

    /**
     * @throws IllegalArgumentException naming the bad field; SCR logs it and the
     *     component stays unsatisfied until a valid update
     */
    @Activate
    void activate(BundleContext bc, Map<String, Object> props) {
        IOThreadSettings settings = IOThreadSettings.parse(props, defaultName(props));
        runner = new IOThreadRunner(bc, settings, backends, "configuration");
    }

    @Modified
    void modified(Map<String, Object> props) {
        runner.update(props);
    }

    @Deactivate
    void deactivate() {
        runner.close();
    }

    /** A configuration without a name is named after its PID's last part. */
    private static String defaultName(Map<String, Object> props) {
        Object pid = props.get("service.pid");
        String s = pid == null ? "iothread" : pid.toString();
        int cut = Math.max(s.lastIndexOf('~'), s.lastIndexOf('.'));
        return "iothread-" + s.substring(cut + 1).replaceAll("[^A-Za-z0-9_.-]", "_");
    }
}
