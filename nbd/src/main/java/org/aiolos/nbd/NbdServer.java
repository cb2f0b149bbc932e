package org.aiolos.nbd;

import java.io.IOException;
import java.util.List;
import org.aiolos.core.AiolosContext;

/** The NBD export server (skeleton; the implementation follows). */
public final class NbdServer implements AutoCloseable {

    private NbdServer() {
    }

    /** Binds and listens on {@code address:port} (0 = ephemeral) and serves on {@code ctx}. */
    public static NbdServer start(AiolosContext ctx, String address, int port) throws IOException {
        throw new UnsupportedOperationException("NbdServer: not implemented yet");
    }

    public void addExport(ExportSpec spec) throws IOException {
        throw new UnsupportedOperationException("NbdServer: not implemented yet");
    }

    public boolean removeExport(String name) {
        throw new UnsupportedOperationException("NbdServer: not implemented yet");
    }

    public String address() {
        throw new UnsupportedOperationException("NbdServer: not implemented yet");
    }

    public int port() {
        throw new UnsupportedOperationException("NbdServer: not implemented yet");
    }

    public List<ExportStats> exports() {
        throw new UnsupportedOperationException("NbdServer: not implemented yet");
    }

    @Override
    public void close() {
    }
}
