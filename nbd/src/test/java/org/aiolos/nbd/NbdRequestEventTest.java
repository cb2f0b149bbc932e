package org.aiolos.nbd;

import static org.aiolos.nbd.NbdFixture.image;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * org.aiolos.nbd.Request: with the threshold at 0 every request a real connection makes
 * is recorded with its export, client, command, range and NBD error; with a threshold no
 * request reaches, none is.
 */
class NbdRequestEventTest {
    private static final String EVENT = "org.aiolos.nbd.Request";

    @TempDir
    Path dir;
    NbdFixture f;

    @BeforeEach
    void setUp() throws IOException {
        f = new NbdFixture();
        f.server.addExport(ExportSpec.of("disk", image(dir, "disk.img", 1 << 20, 7)));
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void everyRequestIsRecordedAtThresholdZero() throws IOException {
        byte[] data = new byte[4096];
        Arrays.fill(data, (byte) 0x5a);
        List<RecordedEvent> events = record(Duration.ZERO, () -> {
            try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                c.go("disk", false);
                c.write(1, 8192, data, 0);
                assertEquals(0, c.simpleReply(1));
                assertArrayEquals(data, c.read(2, 8192, 4096));
                assertEquals(0, c.flush(3));
                c.request(0, 0, 4, 1 << 20, 4096); // a read past the end
                c.out.flush();
                assertEquals(22, c.simpleReply(4), "EINVAL");
                c.disconnect();
            }
        });
        assertEquals(List.of("WRITE", "READ", "FLUSH", "READ"), events.stream().map(e -> e.getString("command"))
                .toList(), events.toString());
        for (RecordedEvent e : events) {
            assertEquals("disk", e.getString("export"));
            assertTrue(e.getString("client").startsWith("127.0.0.1:"), e.getString("client"));
        }
        assertEquals(8192, events.get(0).getLong("offset"));
        assertEquals(4096, events.get(0).getLong("length"));
        assertEquals(0, events.get(0).getInt("error"));
        assertEquals(8192, events.get(1).getLong("offset"));
        assertEquals(1 << 20, events.get(3).getLong("offset"));
        assertEquals(22, events.get(3).getInt("error"));
    }

    @Test
    void requestsBelowTheThresholdAreNotRecorded() throws IOException {
        List<RecordedEvent> events = record(Duration.ofHours(1), () -> {
            try (RawNbdClient c = new RawNbdClient(f.server.port())) {
                c.go("disk", false);
                for (int i = 0; i < 10; i++) {
                    c.read(i, 4096L * i, 4096);
                }
                c.disconnect();
            }
        });
        assertEquals(List.of(), events);
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    interface Work {
        void run() throws IOException;
    }

    private List<RecordedEvent> record(Duration threshold, Work work) throws IOException {
        Path file = dir.resolve("nbd.jfr");
        try (Recording r = new Recording()) {
            r.enable(EVENT).withThreshold(threshold);
            r.start();
            work.run();
            // The reply reaches the client before the request's coroutine commits its event:
            // wait for the server to see the connection gone (the coroutines have all ended).
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (f.server.connectionCount() > 0 && System.nanoTime() < deadline) {
                sleepBriefly();
            }
            r.stop();
            r.dump(file);
        }
        return RecordingFile.readAllEvents(file).stream().filter(e -> e.getEventType().getName().equals(EVENT))
                .sorted(java.util.Comparator.comparing(RecordedEvent::getStartTime)).toList();
    }
}
