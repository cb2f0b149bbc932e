package org.aiolos.demo;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of the echo demo (PID {@code org.aiolos.demo.echo}). The standard DS
 * property {@code context.target} (e.g. {@code (aiolos.name=io1)}) picks the IOThread.
 */
@ObjectClassDefinition(name = "Aiolos echo demo",
        description = "A TCP echo service on 127.0.0.1 served by an IOThread, with a client pinging it.")
@interface EchoConfig {
    @AttributeDefinition(description = "TCP port on 127.0.0.1; 0 picks a free one.", min = "0", max = "65535")
    int port() default EchoSettings.DEFAULT_PORT;

    @AttributeDefinition(description = "Milliseconds between the built-in client's pings; 0 turns it off.",
            min = "0")
    long ping$_$ms() default EchoSettings.DEFAULT_PING_MS;
}
