package org.aiolos.core.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;

/**
 * Who may read a rewritten {@code .cfg}: the file written beside it and moved over it is a
 * new file, which got the process's umask and group (a 640 root:nogroup file became 644
 * root:root, readable by everyone, unreadable to the group that was meant to read it), so
 * the old file's mode, group and owner are copied onto it first.
 */
final class FileAccess {
    private FileAccess() {
    }

    /**
     * Gives {@code to} the permissions of {@code from}, and its group and owner where this
     * process may (the group when it belongs to it, the owner as root); else they stay.
     */
    static void copy(Path from, Path to) throws IOException {
        PosixFileAttributeView target = Files.getFileAttributeView(to, PosixFileAttributeView.class);
        if (target == null) {
            return; // not a POSIX file system: nothing to keep
        }
        PosixFileAttributes was = Files.readAttributes(from, PosixFileAttributes.class);
        target.setPermissions(was.permissions());
        try {
            target.setGroup(was.group());
        } catch (IOException notAMember) {
            // only root or a member of the group may give a file to it
        }
        try {
            target.setOwner(was.owner());
        } catch (IOException notRoot) {
            // only root may give a file away
        }
        target.setPermissions(was.permissions()); // chown may clear set-id bits
    }
}
