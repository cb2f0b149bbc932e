package org.aiolos.nbd.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.aiolos.nbd.TlsSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The record of who held a name or a writable image, as a restart reads it back. */
class ExportHoldersTest {
    @TempDir
    Path dir;

    private final Predicate<String> noneApplied = pid -> false;

    private ExportSettings settings(String name, String file, boolean readOnly) throws IOException {
        Path f = dir.resolve(file);
        if (!Files.exists(f)) {
            Files.write(f, new byte[512]);
        }
        return new ExportSettings(name, f, readOnly, false, "", "", "io1", "127.0.0.1", 10809, TlsSettings.DISABLED,
                null, 0600, List.of(), 10, 0);
    }

    @Test
    void aRestartKeepsTheNameAndTheWritableImageForTheirHolder() throws IOException {
        Path store = dir.resolve("holders.properties");
        new ExportHolders(store).record("pid.a", settings("dup", "a.img", false));
        ExportHolders after = new ExportHolders(store);
        String name = after.reservedFor("pid.z", settings("dup", "b.img", false), noneApplied, pid -> true);
        assertTrue(name.startsWith("name: export 'dup' was held by configuration pid.a before the restart"), name);
        String file = after.reservedFor("pid.z", settings("other", "a.img", false), noneApplied, pid -> true);
        assertTrue(file.startsWith("file: " + dir.resolve("a.img") + ", exported writable, was held by"), file);
        // A read-only view of the image claims nothing of it; the holder itself is not refused.
        assertNull(after.reservedFor("pid.z", settings("view", "a.img", true), noneApplied, pid -> true));
        assertNull(after.reservedFor("pid.a", settings("dup", "a.img", false), noneApplied, pid -> true));
    }

    @Test
    void aHolderThatCameBackOrWasDeletedReservesNothing() throws IOException {
        Path store = dir.resolve("holders.properties");
        new ExportHolders(store).record("pid.a", settings("dup", "a.img", false));
        ExportHolders after = new ExportHolders(store);
        // Applied again: it clashes as a served export does, no record needed.
        assertNull(after.reservedFor("pid.z", settings("dup", "b.img", false), Set.of("pid.a")::contains, pid -> true));
        // Its configuration was deleted while the framework was down: the record goes for good.
        assertNull(after.reservedFor("pid.z", settings("dup", "b.img", false), noneApplied, pid -> false));
        assertNull(new ExportHolders(store).reservedFor("pid.z", settings("dup", "b.img", false), noneApplied,
                pid -> true));
    }

    @Test
    void aForgottenHolderFreesWhatItHeld() throws IOException {
        Path store = dir.resolve("holders.properties");
        ExportHolders h = new ExportHolders(store);
        h.record("pid.a", settings("dup", "a.img", false));
        h.record("pid.a", settings("renamed", "a.img", false)); // an update: the old name is free
        assertNull(new ExportHolders(store).reservedFor("pid.z", settings("dup", "b.img", false), noneApplied,
                pid -> true));
        h.forget("pid.a");
        assertEquals("", Files.readAllLines(store).stream().filter(l -> !l.startsWith("#")).reduce("", String::concat));
    }
}
