package org.aiolos.nbd.osgi;

import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

/**
 * One NBD export per Config Admin factory configuration of {@value #FACTORY_PID}: creating
 * a configuration exports the file, updating it re-exports it with the new settings (or
 * rejects them whole, naming the field, and the old ones keep serving), deleting it
 * withdraws the export. {@link NbdExports} does the work; this is only the configuration's
 * life cycle.
 */
@Component(configurationPid = NbdExportComponent.FACTORY_PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {}, immediate = true)
@Designate(ocd = ExportConfig.class, factory = true)
public final class NbdExportComponent {
    public static final String FACTORY_PID = "org.aiolos.nbd.export";
    /**
     * Declarative Services' {@code ComponentConstants.DEACTIVATION_REASON_CONFIGURATION_DELETED}
     * (fixed by the specification; its package is not otherwise needed here).
     */
    private static final int CONFIGURATION_DELETED = 4;

    @Reference
    NbdExports exports;

    private String pid;

    @Activate
    void activate(Map<String, Object> props) {
        pid = String.valueOf(props.get("service.pid"));
        exports.configure(pid, props);
    }

    @Modified
    void modified(Map<String, Object> props) {
        exports.configure(pid, props);
    }

    @Deactivate
    void deactivate(int reason) {
        // Deleted, or only going away with its bundle (or the framework): the log says which.
        exports.remove(pid, reason == CONFIGURATION_DELETED);
    }
}
