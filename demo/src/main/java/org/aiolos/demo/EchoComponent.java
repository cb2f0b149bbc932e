package org.aiolos.demo;

import java.util.Map;
import org.aiolos.api.AioContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;

/**
 * Runs the echo server (and its pinging client) on an IOThread's context service. The
 * reference is static: when that context goes away the component is deactivated, closes
 * its sockets, and comes back on another context.
 */
@Component(service = EchoComponent.class, immediate = true, configurationPid = EchoComponent.PID)
@Designate(ocd = EchoConfig.class)
public final class EchoComponent {
    public static final String PID = "org.aiolos.demo.echo";
    private static final System.Logger LOG = System.getLogger("org.aiolos.demo");

    @Reference(policyOption = ReferencePolicyOption.GREEDY)
    AioContext context;

    private EchoServer server;
    private EchoPinger pinger;

    @Activate
    void activate(Map<String, Object> props) {
        EchoSettings config;
        try {
            config = EchoSettings.parse(props);
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, "echo: configuration " + PID + " rejected, nothing listens until"
                    + " it is fixed: " + e.getMessage());
            return;
        }
        server = listen(config.port());
        if (config.pingMs() > 0) {
            pinger = new EchoPinger(context, server.port(), config.pingMs());
        }
        String msg = "echo: listening on 127.0.0.1:" + server.port() + " on IOThread '" + context.name()
                + "' (try: nc 127.0.0.1 " + server.port() + ")";
        LOG.log(System.Logger.Level.INFO, msg);
        if (Boolean.getBoolean("aiolos.demo.announce")) {
            System.out.println(msg);
        }
    }

    /** The configured port, or a free one if it is taken (a second container on the host). */
    private EchoServer listen(int port) {
        try {
            return new EchoServer(context, port);
        } catch (RuntimeException e) {
            if (port == 0) {
                throw e;
            }
            LOG.log(System.Logger.Level.WARNING, "echo: port {0} unavailable ({1}); using a free port",
                    String.valueOf(port), // MessageFormat would print 20,807
                    e.getMessage());
            return new EchoServer(context, 0);
        }
    }

    @Deactivate
    void deactivate() {
        if (server == null) {
            return; // its configuration was rejected: nothing was opened
        }
        // The server closes whatever the pinger's close does: a listener left open would
        // keep the context from closing and the port from the next activation.
        try {
            if (pinger != null) {
                pinger.close();
            }
        } finally {
            server.close();
        }
    }

    /** The port it listens on; -1 while its configuration is rejected. */
    public int port() {
        return server == null ? -1 : server.port();
    }

    public String contextName() {
        return context.name();
    }

    public long echoedBytes() {
        return server == null ? 0 : server.echoedBytes();
    }
}
