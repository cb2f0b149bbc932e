package org.aiolos.core.config;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a shell change can be saved to its {@code .cfg} file, asked before the change
 * is applied. Config Admin took a change first and the file was written after, so with
 * {@code conf/} not writable (another owner, {@code chattr +i}, a read-only mount) an
 * export or IOThread changed live, the file write failed with a raw
 * {@code FileSystemException}, and the change silently went away at the next start.
 * Writing a probe file is the question asked: permission bits alone miss the immutable
 * flag, read-only mounts and ACLs.
 */
final class SaveCheck {
    private SaveCheck() {
    }

    /**
     * @param file the {@code .cfg} file to be written or deleted (the folder is what is probed)
     * @param verb {@code save} or {@code delete}, for the message
     * @throws RefusedException when the folder takes no new file, saying why; nothing changed
     */
    static void writable(Path file, String verb) {
        try {
            // Through a symbolic link it is the linked file's folder that is written.
            Path folder = ("save".equals(verb) ? CfgFile.target(file) : file).toAbsolutePath().getParent();
            // Not *.cfg: FileInstall, watching the folder, ignores it.
            Files.delete(Files.createTempFile(folder, ".aiolos-save-check", ".tmp"));
        } catch (IOException e) {
            throw refused(file, verb, e, "nothing changed");
        }
    }

    /** The refusal for {@code file}, whose {@code verb} failed with {@code e}; {@code outcome} ends it. */
    static RefusedException refused(Path file, String verb, IOException e, String outcome) {
        return new RefusedException("cannot " + verb + " " + file + ": " + reason(e) + "; " + outcome);
    }

    /** The operating system's reason, without the exception's class and paths. */
    static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            String r = f.getReason();
            return r.isEmpty() ? r : Character.toLowerCase(r.charAt(0)) + r.substring(1);
        }
        return String.valueOf(e.getMessage());
    }
}
