package org.aiolos.nbd.osgi;

import java.lang.management.ManagementFactory;
import java.util.Hashtable;
import java.util.Map;
import javax.management.JMException;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import org.aiolos.nbd.ExportStats;

/**
 * One served export as an MBean; each getter asks the server for a fresh snapshot, and the
 * operations go through {@link NbdExports} (closing, as the shell does, through Config Admin).
 */
final class NbdExportStats implements NbdExportStatsMBean {
    private static final System.Logger LOG = System.getLogger("org.aiolos.nbd");
    private static final ExportStats GONE = new ExportStats("", null, 0, false, "", 0, 0, 0, 0, 0);

    private final String pid;
    private final ExportSettings settings;
    private final Listener listener;
    private final NbdExports exports;

    private NbdExportStats(String pid, ExportSettings settings, Listener listener, NbdExports exports) {
        this.pid = pid;
        this.settings = settings;
        this.listener = listener;
        this.exports = exports;
    }

    /** @return its name, or null when JMX refused it (logged; the export serves anyway) */
    static ObjectName register(String pid, ExportSettings settings, Listener listener, NbdExports exports) {
        try {
            ObjectName on = new ObjectName("org.aiolos",
                    new Hashtable<>(Map.of("type", "NbdExport", "name", settings.name())));
            ManagementFactory.getPlatformMBeanServer().registerMBean(
                    new StandardMBean(new NbdExportStats(pid, settings, listener, exports),
                            NbdExportStatsMBean.class), on);
            return on;
        } catch (JMException e) {
            LOG.log(System.Logger.Level.WARNING, "NBD export ''{0}'': no MBean ({1})", settings.name(), e.toString());
            return null;
        }
    }

    static void unregister(ObjectName on) {
        if (on == null) {
            return;
        }
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(on);
        } catch (JMException e) {
            LOG.log(System.Logger.Level.DEBUG, "MBean {0} already gone", on);
        }
    }

    private ExportStats now() {
        try {
            for (ExportStats s : listener.server.exports()) {
                if (s.name().equals(settings.name())) {
                    return s;
                }
            }
        } catch (RuntimeException closedMeanwhile) {
            // zeros, as for an export no longer served
        }
        return GONE;
    }

    @Override
    public String getName() {
        return settings.name();
    }

    @Override
    public String getConfigurationPid() {
        return pid;
    }

    @Override
    public String getFile() {
        return settings.file().toString();
    }

    @Override
    public String getIOThread() {
        return settings.iothread();
    }

    @Override
    public String getAddress() {
        return listener.bound();
    }

    @Override
    public String getEngine() {
        return now().engine();
    }

    @Override
    public boolean isReadOnly() {
        return settings.readOnly();
    }

    @Override
    public long getSize() {
        return now().size();
    }

    @Override
    public int getConnections() {
        return now().connections();
    }

    @Override
    public long getRequests() {
        return now().requests();
    }

    @Override
    public long getBytesRead() {
        return now().bytesRead();
    }

    @Override
    public long getBytesWritten() {
        return now().bytesWritten();
    }

    @Override
    public long getErrors() {
        return now().errors();
    }

    @Override
    public String close() {
        try {
            return exports.close(pid, settings.name());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return settings.name() + ": interrupted while waiting for the export to stop";
        }
    }

    @Override
    public int disconnectClients() {
        return listener.server.disconnectClients(settings.name());
    }
}
