package org.aiolos.demo;

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
    void activate(EchoConfig config) {
        server = listen(config.port());
        if (config.ping$_$ms() > 0) {
            pinger = new EchoPinger(context, server.port(), config.ping$_$ms());
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

    public int port() {
        return server.port();
    }

    public String contextName() {
        return context.name();
    }

    public long echoedBytes() {
        return server.echoedBytes();
    }
}
