package org.aiolos.nbd.osgi;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code nbd:list}, the read-only command of scope {@code nbd}. Gogo finds it through the
 * {@code osgi.command.*} service properties and calls the public method by name; its
 * {@code @Descriptor} is what {@code help nbd:list} prints.
 */
@Component(service = NbdCommands.class, immediate = true,
        property = {"osgi.command.scope=nbd", "osgi.command.function=list"})
public final class NbdCommands {
    @Reference
    NbdExports exports;

    /**
     * {@code nbd:list}: every export with its file, size, read-only flag, engine, IOThread,
     * address, connections, requests, bytes read and written and errors; then what is not
     * served and why (waiting for its IOThread, or rejected).
     */
    @Descriptor("lists every export: state, IOThread, address, engine, size, connections, requests, bytes"
            + " read and written, errors, file; then every configuration not served and why")
    public String list() {
        return ExportListing.render(exports.snapshots());
    }
}
