package org.aiolos.nbd.osgi;

import org.aiolos.core.config.UsageException;
import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * {@code nbd:list}, the read-only command of scope {@code nbd}. Gogo finds it through the
 * {@code osgi.command.*} service properties and calls the public method by name; its
 * {@code @Descriptor} is what {@code help nbd:list} prints.
 */
@Component(service = NbdCommands.class, immediate = true,
        property = {"osgi.command.scope=nbd", "osgi.command.function=list"})
public final class NbdCommands {
    /**
     * Optional, so that {@code nbd:list} stays and explains when the exports are not active
     * (they need core's coroutine runtime: with core stopped the command would otherwise
     * vanish, and {@code Command not found} tells an operator nothing).
     */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile NbdExports exports;

    /**
     * {@code nbd:list}: every export with its file, size, read-only flag, engine, IOThread,
     * address, connections, requests, bytes read and written and errors; then what is not
     * served and why (waiting for its IOThread, or rejected).
     */
    @Descriptor("lists every export: state, IOThread, address, engine, size, connections, requests, bytes"
            + " read and written, errors, file; then every configuration not served and why")
    public String list() {
        NbdExports e = exports;
        if (e == null) {
            return "no export is served: the NBD exports are not active; they need the coroutine runtime of"
                    + " org.aiolos.core (is that bundle stopped? lb shows it). The configurations stay, and are"
                    + " served again when it runs";
        }
        return ExportListing.render(e.snapshots());
    }

    /** Takes every wrong call: without it Gogo answered "Cannot coerce list(Token) to any of [()]". */
    @Descriptor("a wrong call of nbd:list: prints how to call it")
    public String list(@Descriptor("anything else") Object... wrong) {
        throw new UsageException("nbd:list: wrong arguments", "usage: nbd:list   (no arguments)");
    }
}
