package org.aiolos.nbd;

import static org.aiolos.nbd.NbdFixture.ok;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.aiolos.api.IOThread;
import org.aiolos.core.Aiolos;
import org.aiolos.core.AiolosContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Serve a disk image over NBD" snippet, as written there (port 0 here), read by nbdinfo. */
class ReadmeNbdExampleTest {
    @Test
    void theReadmeSnippetServesAnExportThatNbdinfoReads(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("disk1.raw");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        try (IOThread io = Aiolos.newIOThread("nbd")) {
            io.start();
            NbdServer server = NbdServer.start((AiolosContext) io.context(), "127.0.0.1", 0);
            try {
                server.addExport(ExportSpec.of("disk1", image));
                String info = ok(30, "nbdinfo", "nbd://127.0.0.1:" + server.port() + "/disk1");
                assertTrue(info.contains("export-size: 1048576"), info);
            } finally {
                server.close();
            }
        }
    }
}
