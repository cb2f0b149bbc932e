package org.aiolos.linux;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * Listening Unix domain stream sockets (QEMU's {@code unix_listen_saddr} in
 * {@code util/qemu-sockets.c}), as raw descriptors the fd monitors watch like any other:
 * accept them with {@link Sockets#accept} and close them with {@link Fds#close}. The
 * JDK's {@code UnixDomainSocketAddress} channels hide their descriptor, so they cannot join
 * a context's fd monitor; hence these bindings.
 */
public final class UnixSockets {
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    /** struct sockaddr_un: sun_family u16, then sun_path[108]. */
    private static final int SOCKADDR_UN_SIZE = 110;
    private static final int MAX_PATH_BYTES = 107;

    private UnixSockets() {
    }

    /**
     * A non-blocking close-on-exec socket listening on {@code path}, whose file gets
     * {@code mode} (e.g. {@code 0600}) before it starts listening, so no client connects
     * through wider permissions. A socket file left at {@code path} by an earlier run is
     * replaced (as QEMU does); any other file there is refused.
     *
     * @param mode permission bits, 0 to 0777
     * @throws IllegalArgumentException for a path longer than 107 bytes, a mode out of range
     *     or a file at {@code path} that is not a socket
     * @throws SyscallException when socket, bind or listen fails (the message names path and errno)
     */
    public static int listen(Path path, int mode, int backlog) {
        if ((mode & ~0777) != 0) {
            throw new IllegalArgumentException("socket mode must be 0..0777, got 0" + Integer.toOctalString(mode));
        }
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length == 0 || name.length > MAX_PATH_BYTES) {
            throw new IllegalArgumentException("a Unix socket path must be 1.." + MAX_PATH_BYTES + " bytes, got "
                    + name.length + ": " + path);
        }
        removeStale(path);
        int fd = Native.socket(AF_UNIX, SOCK_STREAM | Fds.SOCK_NONBLOCK | Fds.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new SyscallException("socket", "AF_UNIX, SOCK_STREAM", -fd);
        }
        boolean ok = false;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment addr = a.allocate(SOCKADDR_UN_SIZE, 2);
            addr.set(JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(name, 0, addr, JAVA_BYTE, 2, name.length);
            int r = Native.bind(fd, addr, SOCKADDR_UN_SIZE);
            if (r < 0) {
                throw new SyscallException("bind", "fd " + fd + ", " + path, -r);
            }
            try {
                Files.setPosixFilePermissions(path, permissions(mode));
            } catch (IOException e) {
                throw new IllegalStateException("cannot set mode 0" + Integer.toOctalString(mode) + " on " + path
                        + ": " + e.getMessage(), e);
            }
            r = Native.listen(fd, backlog);
            if (r < 0) {
                throw new SyscallException("listen", "fd " + fd + ", backlog " + backlog, -r);
            }
            ok = true;
            return fd;
        } finally {
            if (!ok) {
                Fds.close(fd);
                try {
                    Files.deleteIfExists(path);
                } catch (IOException ignored) {
                    // nothing was bound, or it cannot be removed either
                }
            }
        }
    }

    private static void removeStale(Path path) {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Object type = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            boolean socket = ((Integer) type & 0170000) == 0140000;
            if (!socket) {
                throw new IllegalArgumentException(path + " exists and is not a socket; refusing to replace it");
            }
            Files.delete(path);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot replace the socket file " + path + ": " + e.getMessage(), e);
        }
    }

    /** The permission bits of an octal mode. */
    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> p = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.OWNER_READ};
        for (int bit = 0; bit < 9; bit++) {
            if ((mode & (1 << bit)) != 0) {
                p.add(order[bit]);
            }
        }
        return p;
    }
}
